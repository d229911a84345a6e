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
