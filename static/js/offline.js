// Offline-first glue for the pages: the service worker, keeping opened pages for offline
// use, putting failed posts into the outbox, the badge, the outbox screen, and logout.
(function () {
  "use strict";
  var PAGES = "inspect-pages";
  var KEEP_PAGE = /^\/($|inspections\/[0-9a-f-]{36}$|outbox$)/;
  var outbox = window.InspectOutbox;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }
  var OFFLINE_TOAST = "网络不可用，已保存到待发送，恢复网络后自动提交";
  function toast(text) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.textContent = ""; }, 5000);
  }
  // The offline message is no longer true once the network is back.
  window.addEventListener("online", function () {
    var t = document.getElementById("toast");
    if (t && t.textContent === OFFLINE_TOAST) t.textContent = "";
  });
  function newUuid() {
    return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  // Work that can wait until the page has loaded and the phone is idle, so that the first
  // load's main thread (and network) stay free for what the officer sees.
  function whenIdle(work) {
    function idle() { (window.requestIdleCallback || function (f) { setTimeout(f, 1); })(work, { timeout: 2000 }); }
    if (document.readyState === "complete") idle(); else window.addEventListener("load", idle, { once: true });
  }

  if ("serviceWorker" in navigator) {
    whenIdle(function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* http on a LAN IP: no worker */ });
    });
  }

  // Keep the current page, as the officer sees it now, for an offline reload.
  function keepPage() {
    if (!window.caches || !KEEP_PAGE.test(location.pathname)) return;
    var copy = document.documentElement.cloneNode(true);
    // Nothing transient goes into the copy: no pending marks, no toast (its message was true
    // for a moment, not for the next time the page opens).
    copy.querySelectorAll(".pending, .pending-mark").forEach(function (el) { el.remove(); });
    var toastCopy = copy.querySelector("#toast");
    if (toastCopy) toastCopy.textContent = "";
    var html = "<!doctype html>\n" + copy.outerHTML;
    caches.open(PAGES).then(function (c) {
      return c.put(location.pathname, new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }));
    });
  }

  // ---- the badge on every page
  function refreshBadge() {
    var badge = document.querySelector("[data-outbox-badge]");
    outbox.list().then(function (entries) {
      if (badge) {
        badge.hidden = entries.length === 0;
        badge.querySelector("[data-outbox-count]").textContent = String(entries.length);
        badge.classList.toggle("has-failed", entries.some(function (e) { return e.status === "failed"; }));
      }
      renderScreen(entries);
    });
  }

  // ---- the outbox screen
  function describe(entry) {
    var kind = entry.fields.some(function (f) { return f.file; }) ? "照片" : (entry.label || "检查内容");
    return kind + " · " + new Date(entry.createdAt).toLocaleString("zh-CN");
  }
  function renderScreen(entries) {
    var listEl = document.querySelector("[data-outbox-list]");
    if (!listEl) return;
    listEl.innerHTML = "";
    if (!entries.length) {
      listEl.innerHTML = '<li class="muted">没有待发送的内容。</li>';
      return;
    }
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.className = "outbox-item outbox-" + entry.status;
      var text = document.createElement("div");
      var title = document.createElement("strong");
      title.textContent = describe(entry);
      var state = document.createElement("small");
      state.textContent = entry.status === "failed" ? "未成功：" + entry.message : "等待网络…";
      text.append(title, state);
      var actions = document.createElement("div");
      var retry = document.createElement("button");
      retry.type = "button"; retry.textContent = "重试";
      retry.addEventListener("click", function () { outbox.retry(entry.id, csrfToken()).then(refreshBadge); });
      var del = document.createElement("button");
      del.type = "button"; del.textContent = "删除"; del.className = "danger";
      del.addEventListener("click", function () {
        if (confirm("删除后这条内容不会再提交，确定删除？")) outbox.remove(entry.id).then(refreshBadge);
      });
      actions.append(retry, del);
      li.append(text, actions);
      listEl.append(li);
    });
  }

  // ---- a post that could not reach the server goes into the outbox
  function showPending(form, body) {
    var file = body.get("file");
    if (file && file.size) {
      var photos = form.closest(".photos");
      var ul = photos && (photos.querySelector(".thumbs") || photos.insertBefore(document.createElement("ul"), form));
      if (ul) {
        ul.className = "thumbs";
        var li = document.createElement("li");
        li.className = "pending";
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "待上传的照片";
        li.append(img);
        ul.append(li);
      }
      form.reset();
    } else {
      var mark = form.querySelector(".pending-mark") || document.createElement("p");
      mark.className = "pending-mark";
      mark.textContent = "已离线保存，恢复网络后自动提交";
      form.append(mark);
    }
    form.querySelectorAll("input[name=uuid], input[name=photo_uuid]").forEach(function (el) { el.value = newUuid(); });
  }

  // A card scanned with no signal: check it against the cards this page brought along.
  function offlineVerdict(form) {
    var data = document.getElementById("offline-cards");
    var code = (form.querySelector("input[name=code]") || {}).value || "";
    var box = document.createElement("div");
    box.className = "offline-scan";
    var roster = null;
    try { roster = data && JSON.parse(data.textContent); } catch (err) { roster = null; }
    var token = code.split("/c/").pop().split(/[?#]/)[0];
    var card = roster && token && roster.cards[token];
    var asOf = roster ? new Date(roster.as_of).toLocaleString("zh-CN") : "";
    if (card) {
      var banner = document.createElement("div");
      banner.className = "verdict verdict-" + card.verdict;
      banner.textContent = card.label;
      var who = document.createElement("p");
      who.textContent = card.name + (card.certificate_no ? "（" + card.certificate_no + "）" : "") + " · " + card.employer + " · " + card.reason;
      box.append(banner, who);
    } else {
      var none = document.createElement("p");
      none.className = "error";
      none.textContent = code ? "此证不在本服务目标的名册缓存中，离线无法核验" : "证卡照片需联网识别";
      box.append(none);
    }
    var when = document.createElement("p");
    when.className = "muted";
    when.textContent = "离线核验" + (asOf ? "，数据截至 " + asOf : "") + "。恢复网络后自动提交并由服务器复核。";
    box.append(when);
    form.parentNode.insertBefore(box, form.nextSibling);
  }

  document.addEventListener("htmx:sendError", function (e) {
    var cfg = e.detail.requestConfig || {};
    var verb = (cfg.verb || "get").toUpperCase();
    var path = cfg.path || "";
    if (verb === "GET") {
      // A link while offline: let the service worker answer from its cache.
      if (cfg.boosted || (e.detail.elt && e.detail.elt.tagName === "A")) location.href = path;
      return;
    }
    var form = e.detail.elt && (e.detail.elt.tagName === "FORM" ? e.detail.elt : e.detail.elt.closest("form"));
    if (!form) return;
    var body = cfg.formData || new FormData(form);
    var label = form.getAttribute("data-outbox-label") || "";
    outbox.enqueue({ url: path, method: verb, body: body, csrf: csrfToken(), label: label }).then(function () {
      if (form.hasAttribute("data-scanner")) offlineVerdict(form);
      showPending(form, body);
      toast(OFFLINE_TOAST);
      refreshBadge();
      keepPage();
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync && reg.sync.register("outbox"); }).catch(function () {});
      }
    });
  });
  document.addEventListener("htmx:afterSettle", keepPage);

  // ---- replay: when the network returns, when the app opens, when the page is shown again
  function flush() { if (navigator.onLine) outbox.flush().then(refreshBadge); }
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  document.addEventListener("outbox:changed", refreshBadge);
  try { new BroadcastChannel("inspect-outbox").onmessage = refreshBadge; } catch (e) { /* older browsers */ }

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-outbox-retry]")) outbox.retry(undefined, csrfToken()).then(refreshBadge);
  });

  // ---- logout: the phone is shared between shifts, so nothing stays behind
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("[data-logout]") || form.dataset.cleared === "1") return;
    e.preventDefault();
    outbox.list().then(function (entries) {
      if (entries.length && !confirm("还有 " + entries.length + " 条内容未发送，退出将删除它们。确定退出？")) return null;
      return Promise.all([
        outbox.clear(),
        window.caches ? caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }) : null,
      ]).then(function () { form.dataset.cleared = "1"; form.submit(); });
    });
  }, true);

  document.addEventListener("DOMContentLoaded", function () { refreshBadge(); whenIdle(function () { keepPage(); flush(); }); });
})();
