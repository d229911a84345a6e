// The outbox: requests made while the network was down, kept in IndexedDB (bodies as
// ArrayBuffer, which Safari stores reliably) and replayed in order when it returns.
// Works in the page and in the service worker (importScripts), so replay runs on `online`,
// when the app opens, when the worker starts, and on Background Sync where it exists.
// Each entry belongs to the user who queued it (`actor`, the id in the page's hx-headers):
// only the user logged in on this phone now (`meta.user`, written by every page) has theirs
// replayed, and the server refuses an entry whose actor is not the session's user.
(function (global) {
  "use strict";
  var DB_NAME = "inspect-outbox";
  var STORE = "requests";
  var META = "meta";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 2);
      req.onupgradeneeded = function () {
        if (!req.result.objectStoreNames.contains(STORE)) {
          req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        }
        if (!req.result.objectStoreNames.contains(META)) req.result.createObjectStore(META);
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, work, name) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name || STORE, mode);
        var result = work(tx.objectStore(name || STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  async function serialize(formData) {
    var fields = [];
    for (var pair of formData.entries()) {
      var value = pair[1];
      if (typeof value === "object" && value !== null && "arrayBuffer" in value) {
        fields.push({ name: pair[0], file: await value.arrayBuffer(), filename: value.name || "photo.jpg", type: value.type });
      } else {
        fields.push({ name: pair[0], value: String(value) });
      }
    }
    return fields;
  }

  function toFormData(fields) {
    var fd = new FormData();
    fields.forEach(function (f) {
      if (f.file) fd.append(f.name, new Blob([f.file], { type: f.type }), f.filename);
      else fd.append(f.name, f.value);
    });
    return fd;
  }

  function list() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.id - b.id; });
    });
  }

  function put(entry) { return withStore("readwrite", function (s) { return s.put(entry); }); }
  function remove(id) { return withStore("readwrite", function (s) { return s.delete(id); }); }
  function clear() { return withStore("readwrite", function (s) { return s.clear(); }); }

  // Who is logged in on this phone now ("" when nobody is): pages write it, replay reads it.
  function setUser(id) {
    return withStore("readwrite", function (s) { return s.put(String(id || ""), "user"); }, META);
  }
  function currentUser() {
    return withStore("readonly", function (s) { return s.get("user"); }, META).then(function (u) { return u || ""; });
  }

  async function enqueue(request) {
    var entry = {
      url: request.url, method: request.method || "POST", csrf: request.csrf || "", actor: String(request.actor || ""),
      label: request.label || "", fields: await serialize(request.body),
      createdAt: new Date().toISOString(), status: "pending", message: "",
    };
    entry.id = await put(entry);
    announce();
    return entry;
  }

  function reasonFrom(status, text) {
    var found = [];
    var re = /class="error"[^>]*>([\s\S]*?)<\//g, m;
    while ((m = re.exec(text || "")) && found.length < 3) found.push(m[1].replace(/<[^>]+>/g, "").trim());
    if (status === 401) return "登录已过期，请重新登录后点“立即重试”";
    if (status === 403 && /另一位用户/.test(text || "")) return "这条内容属于另一位用户，只能由其本人登录后发送";
    if (status === 403 && /页面已过期/.test(text || "")) return "页面已过期，请刷新页面后点“立即重试”";
    return found.filter(Boolean).join("；") || "服务器拒绝了这条内容（HTTP " + status + "）";
  }

  var flushing = null;

  // Replay in order. A network error or a 503 (a service away for a moment) keeps the entry and stops; a refusal (4xx/5xx) is kept
  // with its message and not retried until the officer asks; success removes it.
  function flush() {
    if (flushing) return flushing;
    var run = async function () {
      var sent = 0;
      var user = await currentUser();
      var entries = await list();
      for (var i = 0; i < entries.length; i++) {
        var e = entries[i];
        if (e.status !== "pending" || !user || e.actor !== user) continue;  // another user's: kept, unsent
        var resp;
        try {
          resp = await fetch(e.url, {
            method: e.method, body: toFormData(e.fields), credentials: "same-origin", redirect: "manual",
            headers: { "x-csrftoken": e.csrf, "x-actor": e.actor, "HX-Request": "true", "X-Outbox-Replay": "1" },
          });
        } catch (err) {
          break;
        }
        if (resp.type === "opaqueredirect" || (resp.status >= 200 && resp.status < 400)) {
          await remove(e.id);
          sent++;
        } else if (resp.status === 503) {
          break;  // the database or photo store is away for a moment: kept pending, sent later
        } else {
          e.status = "failed";
          e.message = reasonFrom(resp.status, await resp.text().catch(function () { return ""; }));
          await put(e);
        }
      }
      announce();
      return sent;
    };
    var locked = global.navigator && global.navigator.locks
      ? global.navigator.locks.request("inspect-outbox-flush", run) : run();
    flushing = locked.finally(function () { flushing = null; });
    return flushing;
  }

  async function retry(id, csrf) {
    var user = await currentUser();
    var entries = await list();
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i];
      if (e.actor === user && (id === undefined || e.id === id)) {
        e.status = "pending"; e.message = "";
        if (csrf) e.csrf = csrf;
        await put(e);
      }
    }
    return flush();
  }

  // Tell every open page (and the badge) that the outbox changed.
  function announce() {
    try {
      var channel = new BroadcastChannel("inspect-outbox");
      channel.postMessage("changed");
      channel.close();
    } catch (err) { /* no BroadcastChannel: pages poll on focus */ }
    if (typeof document !== "undefined") document.dispatchEvent(new CustomEvent("outbox:changed"));
  }

  global.InspectOutbox = {
    enqueue: enqueue, list: list, remove: remove, clear: clear, flush: flush, retry: retry,
    setUser: setUser, currentUser: currentUser,
  };
})(self);
