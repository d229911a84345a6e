// Guard-card scanner (progressive enhancement of form[data-scanner]; the form works without it).
// Live camera: the browser's BarcodeDetector where it exists, otherwise jsQR, which is loaded
// from /static/vendor/ only when a scanner is opened. A reading is put into the form's
// hidden "code" field and the form is submitted (htmx posts it when the form has hx-post).
(function () {
  "use strict";
  if (window.__guardScanner) return; // the fragment that includes this script can be swapped in again
  window.__guardScanner = true;

  var JSQR_URL = "/static/vendor/jsQR.js";
  var jsqrLoading = null;
  var active = null; // {form, stream, timer, stopped}

  function canUseCamera() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function reveal(root) {
    if (!canUseCamera()) return;
    (root || document).querySelectorAll("form[data-scanner] .scan-open").forEach(function (b) { b.hidden = false; });
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve(window.jsQR.default || window.jsQR);
    if (!jsqrLoading) {
      jsqrLoading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = JSQR_URL;
        s.onload = function () { resolve(window.jsQR.default || window.jsQR); };
        s.onerror = function () { jsqrLoading = null; reject(new Error("jsQR")); };
        document.head.appendChild(s);
      });
    }
    return jsqrLoading;
  }

  function makeDecoder() {
    if ("BarcodeDetector" in window) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) throw new Error("no qr_code");
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        document.documentElement.dataset.qrDecoder = "BarcodeDetector";
        return function (video) {
          return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
        };
      }).catch(jsqrDecoder);
    }
    return jsqrDecoder();
  }

  function jsqrDecoder() {
    return loadJsQR().then(function (jsQR) {
      document.documentElement.dataset.qrDecoder = "jsQR";
      var canvas = document.createElement("canvas");
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      return function (video) {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) return Promise.resolve(null);
        var scale = Math.min(1, 800 / Math.max(w, h));
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var found = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
        return Promise.resolve(found && found.data ? found.data : null);
      };
    });
  }

  function status(form, text) {
    var el = form.querySelector(".scan-status");
    if (el) el.textContent = text;
  }

  function stop() {
    if (!active) return;
    active.stopped = true;
    clearTimeout(active.timer);
    if (active.stream) active.stream.getTracks().forEach(function (t) { t.stop(); });
    var view = active.form.querySelector(".scanner-view");
    if (view) view.hidden = true;
    var video = active.form.querySelector("video");
    if (video) video.srcObject = null;
    active = null;
  }

  function open(form) {
    stop();
    var view = form.querySelector(".scanner-view");
    var video = form.querySelector("video");
    view.hidden = false;
    status(form, "正在打开摄像头…");
    var session = { form: form, stream: null, timer: null, stopped: false };
    active = session;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (stream) {
        if (session.stopped) { stream.getTracks().forEach(function (t) { t.stop(); }); return null; }
        session.stream = stream;
        video.srcObject = stream;
        return Promise.all([video.play(), makeDecoder()]);
      })
      .then(function (ready) {
        if (!ready || session.stopped) return;
        var decode = ready[1];
        status(form, "将证卡上的二维码对准取景框");
        var tick = function () {
          if (session.stopped) return;
          decode(video).then(function (text) {
            if (session.stopped) return;
            if (text) {
              stop();
              form.querySelector("input[name=code]").value = text;
              status(form, "已识别，正在核验…");
              form.requestSubmit();
            } else {
              session.timer = setTimeout(tick, 150);
            }
          }).catch(function () { session.timer = setTimeout(tick, 300); });
        };
        tick();
      })
      .catch(function () {
        if (session.stopped) return;
        status(form, "无法打开摄像头。请改用“拍摄证卡二维码”，或输入保安员证号。");
        if (session.stream) session.stream.getTracks().forEach(function (t) { t.stop(); });
      });
  }

  document.addEventListener("click", function (e) {
    var openBtn = e.target.closest && e.target.closest("form[data-scanner] .scan-open");
    if (openBtn) { e.preventDefault(); open(openBtn.form); return; }
    var closeBtn = e.target.closest && e.target.closest("form[data-scanner] .scan-close");
    if (closeBtn) { e.preventDefault(); stop(); }
  });

  // A photo of the card: send it as soon as it is chosen.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (input.name === "card_photo" && input.form && input.form.hasAttribute("data-scanner") && input.files.length) {
      input.form.requestSubmit();
    }
  });

  document.addEventListener("htmx:beforeSwap", stop);
  window.addEventListener("pagehide", stop);
  document.addEventListener("htmx:load", function (e) { reveal(e.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
})();
