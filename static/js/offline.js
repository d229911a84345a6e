// Offline-first glue for the pages: the service worker, keeping opened pages for offline
// use, putting failed posts into the outbox, the badge, the outbox screen, and logout.
(function () {
  "use strict";
  var PAGES = "inspect-pages";
  var KEEP_PAGE = /^\/($|inspections\/[0-9a-f-]{36}$|outbox$)/;
  var outbox = window.InspectOutbox;

  function pageHeader(name) {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")[name] || ""; }
    catch (e) { return ""; }
  }
  function csrfToken() { return pageHeader("x-csrftoken"); }
  // The user this page was made for ("" on the login page): the outbox's owner of what it queues.
  function actorId() { return pageHeader("x-actor"); }
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
    outbox.list().then(function (all) {
      // Only this user's entries are shown; another user's are counted, never shown.
      var me = actorId();
      var entries = all.filter(function (e) { return me && e.actor === me; });
      var others = all.filter(function (e) { return !me || e.actor !== me; });
      var notice = document.querySelector("[data-outbox-others]");
      if (notice) {
        notice.hidden = others.length === 0;
        var count = notice.querySelector("[data-outbox-others-count]");
        if (count) count.textContent = String(others.length);
      }
      var actors = document.querySelector("input[name=outbox_actors]");
      if (actors) {
        actors.value = all.map(function (e) { return e.actor; })
          .filter(function (a, i, list) { return a && list.indexOf(a) === i; }).join(",");
      }
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

  // The key of a scanned card in the offline roster: HMAC-SHA256 of its token under the
  // roster's salt (server/cards/service.py roster_digest). The page never holds a token, so
  // a copied page cannot print a working card. WebCrypto exists only in a secure context.
  function rosterDigest(saltHex, token) {
    if (!window.crypto || !crypto.subtle || !saltHex) return Promise.resolve(null);
    var salt = new Uint8Array(saltHex.match(/../g).map(function (h) { return parseInt(h, 16); }));
    return crypto.subtle.importKey("raw", salt, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then(function (key) { return crypto.subtle.sign("HMAC", key, new TextEncoder().encode(token)); })
      .then(function (mac) {
        return Array.from(new Uint8Array(mac)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
      })
      .catch(function () { return null; });
  }

  // A card scanned with no signal: check it against the cards this page brought along.
  async function offlineVerdict(form) {
    var data = document.getElementById("offline-cards");
    var code = (form.querySelector("input[name=code]") || {}).value || "";
    var box = document.createElement("div");
    box.className = "offline-scan";
    var roster = null;
    try { roster = data && JSON.parse(data.textContent); } catch (err) { roster = null; }
    var token = code.split("/c/").pop().split(/[?#]/)[0];
    var digest = roster && token ? await rosterDigest(roster.salt, token) : null;
    var card = digest && roster.cards[digest];
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
      none.textContent = code ? "此证不是本服务目标在岗保安员的现行证卡，离线无法核验" : "证卡照片需联网识别";
      box.append(none);
    }
    var when = document.createElement("p");
    when.className = "muted";
    when.textContent = "离线核验" + (asOf ? "，数据截至 " + asOf : "") + "。恢复网络后自动提交并由服务器复核。";
    box.append(when);
    return box;
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
    outbox.enqueue({ url: path, method: verb, body: body, csrf: csrfToken(), actor: actorId(), label: label }).then(function () {
      if (form.hasAttribute("data-scanner")) offlineVerdict(form).then(function (box) {
        form.parentNode.insertBefore(box, form.nextSibling);
      });
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

  // ---- logout: the phone is shared between shifts, so nothing stays behind. Offline it is
  // refused: the server could not end the session, and wiping the phone alone would be half a
  // logout. Online, what waits is sent first; what the server refused is deleted only after
  // the officer confirms. The answer's Clear-Site-Data wipes the rest (server/auth/routes.py).
  function logoutRefused() {
    var text = "没有网络，无法退出：退出需要联网结束登录。请恢复网络后再退出。";
    toast(text);
    var form = document.querySelector("form[data-logout]");
    var note = form && (form.querySelector(".logout-refused") || document.createElement("p"));
    if (note) {
      note.className = "error logout-refused";
      note.setAttribute("role", "alert");
      note.textContent = text;
      form.append(note);
    }
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("[data-logout]") || form.dataset.cleared === "1") return;
    e.preventDefault();
    if (!navigator.onLine) { logoutRefused(); return; }
    fetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function () {
      return outbox.flush().catch(function () { return 0; }).then(function () { return outbox.list(); }).then(function (all) {
        var me = actorId();
        var mine = all.filter(function (x) { return x.actor === me; });
        if (mine.length && !confirm("还有 " + mine.length + " 条内容未能发送，退出将删除它们。确定退出？")) return null;
        return Promise.all([
          outbox.clear(),
          outbox.setUser(""),
          window.caches ? caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }) : null,
        ]).then(function () { form.dataset.cleared = "1"; form.submit(); });
      });
    }, logoutRefused);
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    outbox.setUser(actorId()).catch(function () {}).then(function () {
      refreshBadge();
      whenIdle(function () { keepPage(); flush(); });
    });
  });
})();
