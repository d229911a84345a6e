// Zoom on the photo page (templates/evidence/photo.html): pinch on a phone, wheel/drag/double-click or the buttons on a desktop (Panzoom from
// npm, vendored). Without JavaScript the photo fits the frame and opens full size above.
(function () {
  var img = document.getElementById("zoom-img");
  if (!img || img.dataset.zoom) return;
  img.dataset.zoom = "pending";
  function start() {
    var pz = window.Panzoom(img, { maxScale: 8, minScale: 1, step: 0.4, panOnlyWhenZoomed: true, cursor: "grab" });
    img.dataset.zoom = "ready";
    var frame = document.getElementById("zoom-frame");
    frame.addEventListener("wheel", function (e) { e.preventDefault(); pz.zoomWithWheel(e); }, { passive: false });
    img.addEventListener("dblclick", function (e) {
      if (pz.getScale() > 1) { pz.reset(); } else { pz.zoomToPoint(3, e); }
    });
    var tools = document.getElementById("zoom-tools");
    tools.hidden = false;
    tools.addEventListener("click", function (e) {
      var what = e.target.getAttribute("data-zoom");
      if (what === "in") pz.zoomIn(); else if (what === "out") pz.zoomOut(); else if (what === "reset") pz.reset();
    });
  }
  if (window.Panzoom) { start(); return; }
  var s = document.createElement("script");
  s.src = "/static/vendor/panzoom.min.js";
  s.onload = start;
  document.head.appendChild(s);
})();
