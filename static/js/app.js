// Progressive enhancement only: every form also works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Capture time and, where the officer allows it, position, for photos and new inspections.
  var position = null;
  if ("geolocation" in navigator) {
    navigator.geolocation.getCurrentPosition(
      function (p) { position = p.coords; },
      function () { position = null; },
      { enableHighAccuracy: true, maximumAge: 60000, timeout: 10000 }
    );
  }
  function stamp(form) {
    var at = form.querySelector("input[name=captured_at]");
    if (at && !at.value) at.value = new Date().toISOString();
    if (position) {
      var lat = form.querySelector("input[name=lat]");
      var lng = form.querySelector("input[name=lng]");
      if (lat && !lat.value) lat.value = position.latitude.toFixed(6);
      if (lng && !lng.value) lng.value = position.longitude.toFixed(6);
    }
  }
  document.addEventListener("change", function (e) {
    if (e.target.type === "file" && e.target.form) stamp(e.target.form);
  }, true);
  document.addEventListener("submit", function (e) { stamp(e.target); }, true);
  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.elt && e.detail.elt.tagName === "FORM") {
      stamp(e.detail.elt);
      ["captured_at", "lat", "lng"].forEach(function (k) {
        var el = e.detail.elt.querySelector("input[name=" + k + "]");
        if (el && el.value) e.detail.parameters[k] = el.value;
      });
    }
  });

  // The toast (#toast in base.html): whatever puts a message there (offline.js, an error
  // fragment the server retargets there), it clears itself after a few seconds.
  var toast = document.getElementById("toast");
  if (toast && window.MutationObserver) {
    var timer = null;
    new MutationObserver(function () {
      clearTimeout(timer);
      if (!toast.textContent.trim()) return;
      timer = setTimeout(function () { toast.textContent = ""; }, toast.querySelector(".error") ? 10000 : 6000);
    }).observe(toast, { childList: true, characterData: true, subtree: true });
  }

  // An error answer that is not one of ours (a proxy's 502 page, say) is never swapped into
  // the page: the toast says what happened, and the form keeps what was typed. Ours carry
  // HX-Retarget (to the toast) or belong where they were asked for (422 beside the field…).
  var IN_PLACE = [401, 403, 404, 409, 413, 422];
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    var html = (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0;
    if (html && (xhr.getResponseHeader("HX-Retarget") || IN_PLACE.indexOf(xhr.status) >= 0)) return;
    e.detail.shouldSwap = false;
    if (toast) toast.textContent = "服务器暂时无法处理（HTTP " + xhr.status + "），您填写的内容没有丢失，请稍后重试";
  });

  // Enter in a picker's search box (registry forms) searches; it must not save the form.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && window.htmx && e.target.matches && e.target.matches("input[data-pick]")) {
      e.preventDefault();
      window.htmx.trigger(e.target, "search");
    }
  });

  // Print buttons (data-print): a listener, since the Content-Security-Policy admits no inline
  // onclick.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });

  // A photo section swapped in tells the page (the 回头看 comparison refreshes on it); an
  // htmx trigger filter would need eval, which the Content-Security-Policy refuses.
  document.addEventListener("htmx:load", function (e) {
    if (e.target.matches && e.target.matches(".photos") && window.htmx) window.htmx.trigger(document.body, "photos-changed");
  });
})();
