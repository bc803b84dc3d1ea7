// The parent side of the Bitrix24 iframe protocol (SDK-AND-FRAME.md), as the portal page runs it. Messages from the
// frame: `command:[params:]callbackId:appSid`; replies: `callbackId:JSON`, posted only to the app's origin.
// setTitle, setScroll and reloadWindow act on the app's own page only: a placement frame (CRM tab, toolbar widget...)
// is laid out by the core component components/bitrix/app.layout without them, and a command the parent does not
// take gets no answer (the b24jssdk sends these three with isSafely, so its timer settles the call; b24jssdk
// src/frame/parent.ts). The fake refuses them the same way in every frame whose PLACEMENT is not DEFAULT, and
// lists the refusals in window.__frameRefused.
export const MAIN_PAGE_ONLY = ["setTitle", "setScroll", "reloadWindow"];

export const PARENT_JS = String.raw`
(function () {
  var cfg = window.__FRAME__;
  var MAIN_PAGE_ONLY = ${JSON.stringify(MAIN_PAGE_ONLY)};
  var mainPage = cfg.placement === "DEFAULT";
  var frame = document.getElementById("app-frame");
  var appOrigin = new URL(cfg.handler).origin;
  function reply(cb, value) { frame.contentWindow.postMessage(cb + ":" + JSON.stringify(value === undefined ? {} : value), appOrigin); }
  function control(path, body) {
    return fetch("/_fake/" + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) }).then(function (r) { return r.json(); });
  }
  function resubmit(extra) {
    var form = document.getElementById("frame-form");
    if (extra) { var u = new URL(form.action); Object.keys(extra).forEach(function (k) { u.searchParams.set(k, extra[k]); }); form.action = u.toString(); }
    form.submit();
  }
  var handlers = {
    getInitData: function () {
      return { LANG: cfg.lang, DOMAIN: cfg.domain, PROTOCOL: 0, PATH: "/rest", AUTH_ID: cfg.auth.AUTH_ID, AUTH_EXPIRES: Number(cfg.auth.AUTH_EXPIRES),
        REFRESH_ID: cfg.auth.REFRESH_ID, MEMBER_ID: cfg.memberId, FIRST_RUN: false, IS_ADMIN: cfg.isAdmin, INSTALL: !cfg.installFinished,
        USER_OPTIONS: {}, APP_OPTIONS: cfg.appOptions, PLACEMENT: cfg.placement, PLACEMENT_OPTIONS: cfg.placementOptions };
    },
    refreshAuth: function () {
      return control("frame-auth", { userId: cfg.userId }).then(function (a) {
        cfg.auth = a; window.__refreshes = (window.__refreshes || 0) + 1;
        return { AUTH_ID: a.AUTH_ID, AUTH_EXPIRES: Number(a.AUTH_EXPIRES), REFRESH_ID: a.REFRESH_ID };
      });
    },
    resizeWindow: function (p) { if (p && p.height) frame.style.height = Number(p.height) + "px"; if (p && p.width) frame.style.width = String(p.width).indexOf("%") > 0 ? p.width : Number(p.width) + "px"; return p; },
    fitWindow: function (p) { frame.style.width = "100%"; return p; },
    setTitle: function (p) { var t = (p && p.title) || ""; document.getElementById("frame-title").textContent = t; document.title = t; return p; },
    setScroll: function (p) { window.scrollTo(0, Number((p && p.scroll) || 0)); return p; },
    reloadWindow: function () { setTimeout(function () { window.location.reload(); }, 0); return {}; },
    setInstall: function (p) { return p; },
    setInstallFinish: function () {
      return control("install-finish").then(function () { cfg.installFinished = true; setTimeout(function () { resubmit({ install_finished: "Y" }); }, 50); return {}; });
    },
    getInterface: function () {
      return { command: Object.keys(handlers).filter(function (c) { return mainPage || MAIN_PAGE_ONLY.indexOf(c) < 0; }), event: [] };
    },
    placementBindEvent: function () { return {}; },
    openPath: function (p) { window.__openedPath = p && p.path; var n = document.getElementById("opened-path"); if (n) n.textContent = "Opened: " + (p && p.path); return { result: "success" }; },
    openApplication: function (p) { window.location.href = "/marketplace/app/"; return p; },
    closeApplication: function () { var s = document.getElementById("slider"); if (s) s.remove(); return {}; },
    setAppOption: function (p) { Object.assign(cfg.appOptions, p || {}); return p; },
    setUserOption: function (p) { return p; },
    selectUser: function () { return { id: "2", name: "Boris Manager" }; },
    selectCRM: function () { return {}; },
  };
  window.addEventListener("message", function (e) {
    if (e.origin !== appOrigin || typeof e.data !== "string") return;
    var parts = e.data.split(":");
    if (parts.length < 3) return;
    var command = parts[0], cb = parts[parts.length - 2], raw = parts.slice(1, -2).join(":");
    var params; try { params = raw ? JSON.parse(raw) : undefined; } catch (err) { params = raw; }
    (window.__frameLog = window.__frameLog || []).push(command);
    if (!mainPage && MAIN_PAGE_ONLY.indexOf(command) >= 0) { (window.__frameRefused = window.__frameRefused || []).push(command); return; }
    var h = handlers[command];
    if (!h) return; // unknown commands get no answer; the SDK's isSafely timer settles them
    Promise.resolve(h(params)).then(function (v) { reply(cb, v); });
  });
})();
`;
