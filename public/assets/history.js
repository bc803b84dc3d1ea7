// @ts-check
// The CRM tab's and widget's only script (decision 009): the page is complete without it. It adds the frame — one
// B24Frame for the page's lifetime (title, height, auth renewal via refreshAuth), loaded after the first render —
// local times, and the two actions. The session token travels as `Authorization: Bearer` and as
// `st` in links, so nothing depends on third-party cookies; an expired session is renewed before it is used.

/** @typedef {{ token: string | null, expiresAt: number | null, title: string, lang: string, entity?: string, id?: number, renew?: boolean, strings: Record<string, string> }} Config */
/**
 * @typedef {{ placement: { isDefault: boolean },
 *   parent: { setTitle(t: string): Promise<unknown>, resizeWindow(w: number, h: number): Promise<unknown> },
 *   auth: { refreshAuth(): Promise<unknown>, getAuthData(): false | { access_token: string, member_id: string } },
 *   getLang(): string }} Frame
 */

const config = /** @type {Config} */ (JSON.parse(document.getElementById("history-config")?.textContent ?? "{}"));
let token = config.token;
let expiresAt = config.expiresAt ?? 0;
const RENEW_AHEAD_MS = 60_000;

/** @type {Promise<Frame | null> | null} */
let frame = null;
/** @returns {Promise<Frame | null>} */
function b24() {
  if (window.parent === window) return Promise.resolve(null);
  frame ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/assets/b24jssdk.js?v=2.2.0";
    script.onload = () => resolve(undefined);
    script.onerror = () => reject(new Error("b24jssdk did not load"));
    document.head.append(script);
  })
    .then(() => /** @type {{ B24Js: { initializeB24Frame(): Promise<Frame> } }} */ (/** @type {unknown} */ (window)).B24Js.initializeB24Frame())
    .catch((e) => {
      console.error("B24Frame could not start", e); // the page still works, unframed
      return null;
    });
  return frame;
}

/** @type {Promise<string | null> | null} */
let renewing = null;
/** A new session from the frame's refreshed auth (POST /api/auth/frame), shared by concurrent callers. */
function renew() {
  renewing ??= (async () => {
    const f = await b24();
    if (!f) return null;
    await f.auth.refreshAuth();
    const auth = f.auth.getAuthData();
    if (!auth) return null;
    const res = await fetch("/api/auth/frame", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AUTH_ID: auth.access_token, member_id: auth.member_id, LANG: f.getLang(), entity: config.entity, id: config.id }) });
    if (!res.ok) return null;
    const body = /** @type {{ token: string, expiresAt: number }} */ (await res.json());
    token = body.token;
    expiresAt = body.expiresAt;
    return token;
  })().finally(() => { renewing = null; });
  return renewing;
}

/** The user's time zone: the server writes times in it (`tz`), and the CSV export too. */
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;

/** @param {string} href */
function withToken(href) {
  const url = new URL(href, location.href);
  if (token) url.searchParams.set("st", token);
  if (timeZone) url.searchParams.set("tz", timeZone);
  return url.toString();
}

/** POST JSON with the session; one silent renewal on 401. @param {string} path @param {object} body */
async function post(path, body) {
  /** @param {string | null} t */
  const send = (t) => fetch(path, { method: "POST", headers: { "content-type": "application/json", ...(t ? { authorization: `Bearer ${t}` } : {}) }, body: JSON.stringify(body) });
  let res = await send(Date.now() > expiresAt - RENEW_AHEAD_MS ? (await renew()) ?? token : token);
  if (res.status === 401) {
    const fresh = await renew();
    if (fresh) res = await send(fresh);
  }
  const json = /** @type {Record<string, unknown>} */ (await res.json().catch(() => ({})));
  if (!res.ok) throw Object.assign(new Error(String(json.message ?? `HTTP ${res.status}`)), { status: res.status, body: json });
  return json;
}

/** Links and the filter form carry the token: renew it first when it is about to expire. @param {string} href */
async function navigate(href) {
  if (Date.now() > expiresAt - RENEW_AHEAD_MS) await renew();
  location.assign(withToken(href));
}

function fitFrame() {
  void b24().then((f) => {
    if (!f) return;
    // Bitrix24 refuses setTitle (and setScroll, reloadWindow) outside the app's main page (core
    // components/bitrix/app.layout): a CRM tab or widget is a placement, where the SDK would only wait out its
    // isSafely timer. Asked on the main page alone, and a refusal is no error.
    if (f.placement.isDefault) f.parent.setTitle(config.title).catch(() => undefined);
    // The body's own height: the document's scrollHeight never drops below the frame's current height, so the frame
    // could grow (page of 50 rows) but never shrink again (a filtered page of 2).
    // The frame keeps its width (the portal's layout decides it); a scrollWidth would only ever widen it.
    const fit = () => void f.parent.resizeWindow(window.innerWidth, Math.max(200, Math.ceil(document.body.getBoundingClientRect().height)));
    fit();
    new ResizeObserver(fit).observe(document.body);
  });
}

function enhance() {
  const status = document.querySelector(".status");
  const locale = config.lang === "ru" ? "ru-RU" : "en-GB";
  for (const t of document.querySelectorAll("time[datetime]")) t.textContent = new Date(t.getAttribute("datetime") ?? "").toLocaleString(locale);
  const form = /** @type {HTMLFormElement | null} */ (document.querySelector("form.filters"));
  // No submit on "change": keyboard users move through a closed select with the arrow keys, one change per key.
  form?.addEventListener("submit", (e) => {
    e.preventDefault();
    const url = new URL(form.action, location.href);
    for (const [k, v] of new FormData(form)) if (typeof v === "string" && v !== "") url.searchParams.set(k, v);
    void navigate(url.toString());
  });
  document.addEventListener("click", (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    const link = /** @type {HTMLAnchorElement | null} */ (target.closest("a[data-nav]"));
    if (link) {
      e.preventDefault();
      void navigate(link.href);
    }
    const exportButton = /** @type {HTMLButtonElement | null} */ (target.closest("button[data-export]"));
    if (exportButton && status) {
      exportButton.disabled = true;
      post("/api/history/export", { entity: config.entity, id: config.id, tz: timeZone })
        .then((r) => { status.textContent = `${config.strings.exported}: ${String(r.name)}`; }, (err) => { status.textContent = String(err.message); })
        .finally(() => { exportButton.disabled = false; });
    }
    const revert = /** @type {HTMLButtonElement | null} */ (target.closest("button[data-revert]"));
    if (revert && status && window.confirm(config.strings.revertConfirm)) {
      /** @param {boolean} overwrite */
      const send = (overwrite) => post("/api/history/revert", { changeId: revert.dataset.revert, overwrite })
        .then((r) => (r.status === "pending" ? void (status.textContent = config.strings.pending ?? "") : location.replace(withToken(location.href))), (err) => {
          status.textContent = String(err.message);
          // 409: the field changed since; the message shows its current value — overwrite only when asked to.
          if (err.status === 409 && !overwrite && window.confirm(`${String(err.message)}\n\n${config.strings.overwriteConfirm ?? ""}`)) void send(true);
        });
      void send(false);
    }
  });
}

if (config.renew) {
  void renew().then((fresh) => {
    if (fresh) location.replace(withToken(location.href));
    else for (const p of document.querySelectorAll("[data-renew]")) p.textContent = config.strings.sessionExpired ?? "";
  });
} else {
  enhance();
  fitFrame();
}
