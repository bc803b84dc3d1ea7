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
  var OPEN_PATH = new RegExp("^/(crm/(deal|lead|contact|company|type)|marketplace|company/personal/user/[0-9]+"
    + "|workgroups/group/[0-9]+)/");
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
    // BX24.openPath opens a path of the portal in a slider over the page; a path not under
    // /crm/(deal|lead|contact|company|type)/, /marketplace/, /company/personal/user/<id>/ or a workgroup's page
    // answers {result:"error", errorCode:"PATH_NOT_AVAILABLE"}, and closing the slider answers {result:"close"}
    // (b24restdocs sdk/bx24-js-sdk/additional-functions/bx24-open-path.md). b24jssdk's slider.openPath puts a
    // width-picking base such as "/crm/type/0/details/0/../../../../.." before the path and adds IFRAME=Y
    // (b24jssdk src/frame/slider.ts): the check sees that prefix, the slider loads the resolved URL.
    openPath: function (p) {
      var raw = String((p && p.path) || "");
      if (!OPEN_PATH.test(raw)) return { result: "error", errorCode: "PATH_NOT_AVAILABLE" };
      var url = new URL(raw, window.location.origin);
      window.__openedPath = url.pathname;
      var n = document.getElementById("opened-path"); if (n) n.textContent = "Opened: " + url.pathname;
      var old = document.getElementById("slider"); if (old) old.remove();
      var slider = document.createElement("div"); slider.id = "slider"; slider.setAttribute("role", "dialog");
      slider.style.cssText = "position:fixed;top:0;right:0;bottom:0;width:min(1000px,95vw);background:#eef2f4;"
        + "box-shadow:0 0 20px rgba(0,0,0,.3);z-index:10;display:flex;flex-direction:column";
      var close = document.createElement("button"); close.id = "slider-close"; close.textContent = "Close";
      var page = document.createElement("iframe"); page.id = "slider-frame"; page.title = "Slider";
      page.style.cssText = "flex:1;border:0";
      page.src = url.pathname + url.search;
      slider.appendChild(close); slider.appendChild(page); document.body.appendChild(slider);
      return new Promise(function (resolve) {
        close.onclick = function () { slider.remove(); resolve({ result: "close" }); };
      });
    },
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
