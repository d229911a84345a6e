// Photos leave the phone small: at most 2048 px on the long edge, JPEG quality 0.7, turned
// upright by the EXIF orientation, with the capture time kept. A 12-megapixel camera photo
// becomes about 350 KB (bench/photos.py; target 400 KB). 2048 px keeps small print (a number
// 24 px tall in the 12 MP photo, like an insignia's) readable where 1600 px blurs it. The
// high-quality canvas filter avoids the default one's aliasing, which blurs small print and
// costs bytes, so quality 0.7 looks as sharp as 0.8 did. A file the browser cannot decode
// goes up unchanged, so the server can say what is wrong with it.
(function () {
  "use strict";
  var MAX_EDGE = 2048;
  var QUALITY = 0.7;
  var KEEP_BELOW = 400 * 1024; // a JPEG already this small and within MAX_EDGE goes as is

  async function downscale(file) {
    var bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    var scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.type === "image/jpeg" && file.size <= KEEP_BELOW) {
      bitmap.close();
      return file;
    }
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    var ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    var blob = await new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); });
    if (!blob) return file;
    var name = (file.name || "photo").replace(/\.[^.]+$/, "") + ".jpg";
    return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
  }

  // Runs before anything else sees the change (window, capture phase): hold the event,
  // swap in the small file, then let a fresh change event through to htmx.
  window.addEventListener("change", function (e) {
    var input = e.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.files.length) return;
    if (input.dataset.ready === "1" || !/^image\//.test(input.files[0].type)) return;
    e.stopImmediatePropagation();
    var original = input.files[0];
    var form = input.form;
    var at = form && form.querySelector("input[name=captured_at]");
    if (at && !at.value) at.value = new Date(original.lastModified || Date.now()).toISOString();
    downscale(original).catch(function () { return original; }).then(function (small) {
      if (small !== original) {
        var dt = new DataTransfer();
        dt.items.add(small);
        input.files = dt.files;
      }
      input.dataset.ready = "1";
      input.dispatchEvent(new Event("change", { bubbles: true }));
      delete input.dataset.ready;
    });
  }, true);

  window.InspectPhotos = { downscale: downscale };
})();
