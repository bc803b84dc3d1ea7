import type { IncomingMessage, ServerResponse } from "node:http";
import { appPageUrl, editAsUser, frameAuth, installUrl, withQuery } from "../lifecycle";
import { parseStr } from "../php";
import { ENTITIES, type Entity, type FakeBitrix, type PortalState } from "../types";
import { dealMoveSection, itemCard, itemList, itemNav, itemPost, productRowsSection } from "./items";
import { PARENT_JS } from "./parent-js";
import { drivePage, driveFilePage } from "./disk";
import { notificationsPage, unreadCount } from "./notifications";
import { esc } from "./esc";

// The portal in a browser: home, CRM lists and cards with the app's tabs and widgets, the app's main page and
// installer — every app frame opened with the real form POST into a named iframe (docs/fake-portal.md).
export interface UiContext {
  portal: PortalState;
  fake: FakeBitrix;
  baseUrl: string;
  body?: string;
}

const jsonForScript = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
const ENTITY_TITLES: Record<Entity, string> = {
  deal: "Deals",
  contact: "Contacts",
  company: "Companies",
  lead: "Leads",
};

function layout(ctx: UiContext, userId: number, title: string, body: string) {
  const u = ctx.portal.users.get(userId);
  const nav = ENTITIES.map((e) => `<a href="/crm/${e}/">${ENTITY_TITLES[e]}</a>`).join("") + itemNav(ctx.portal); // SPAs, quotes, invoices (ui/items.ts)
  // scrollbar-gutter: the app's frame keeps its width when a test grows and shrinks the viewport (e2e shot()): a
  // scrollbar appearing would narrow the frame, the app re-fits its height, and a click aimed before the re-fit lands
  // beside its target (history-tab.spec's "Older →" missed so, now and then).
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
html{scrollbar-gutter:stable}body{margin:0;font:13px "Helvetica Neue",Arial,sans-serif;background:#eef2f4;color:#333}
header{background:#2fc6f6;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}header a{color:#fff}
nav{display:flex;gap:14px}main{padding:16px 20px}.card{background:#fff;border-radius:4px;padding:16px;margin-bottom:12px}
.tabs{display:flex;gap:4px;margin-bottom:8px}.tabs a{padding:8px 12px;background:#fff;border-radius:4px 4px 0 0;text-decoration:none;color:#2067b0}.tabs a.on{font-weight:bold;color:#333}
label{display:block;margin:6px 0 2px;color:#828b95}input{padding:6px;border:1px solid #c6cdd3;border-radius:2px;width:320px}
button,.btn{background:#bbed21;border:0;padding:8px 14px;border-radius:2px;cursor:pointer;color:#535c69;text-decoration:none;display:inline-block}
table{border-collapse:collapse;background:#fff}td,th{padding:6px 10px;border-bottom:1px solid #eef2f4;text-align:left}</style></head><body>
<header><strong>Bitrix24</strong> <span>(fake portal ${esc(ctx.portal.domain)})</span><nav><a href="/">Home</a>${nav}<a href="/marketplace/app/">Change History</a></nav>
<span style="margin-left:auto"><a href="/notifications/">Notifications (${unreadCount(ctx.portal, userId)})</a> · User: ${esc(u?.NAME)} ${esc(u?.LAST_NAME)}${u?.ADMIN ? " (admin)" : ""} · <a href="?user=1">admin</a> · <a href="?user=2">non-admin</a></span></header>
<main>${body}</main></body></html>`;
}

function frame(
  ctx: UiContext,
  userId: number,
  handler: string,
  placement: string,
  options: Record<string, unknown>,
  lang: string,
  title: string,
) {
  const a = frameAuth(ctx.fake, ctx.portal, userId, placement, options, lang);
  const action = withQuery(handler, a.query);
  const inputs = Object.entries(a.form)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join("");
  const cfg = {
    handler,
    lang,
    domain: ctx.portal.domain,
    memberId: ctx.portal.memberId,
    auth: a.form,
    userId,
    isAdmin: ctx.portal.users.get(userId)?.ADMIN ?? false,
    installFinished: ctx.portal.app.finished,
    appOptions: ctx.portal.app.options,
    placement,
    placementOptions: options,
  };
  return `<h2 id="frame-title">${esc(title)}</h2><p id="opened-path"></p>
<form id="frame-form" method="POST" target="${esc(a.frameName)}" action="${esc(action)}">${inputs}</form>
<iframe id="app-frame" name="${esc(a.frameName)}" title="${esc(title)}" style="width:100%;height:600px;border:0;background:#fff"></iframe>
<script>window.__FRAME__=${jsonForScript(cfg)};</script><script>${PARENT_JS}</script><script>document.getElementById("frame-form").submit();</script>`;
}

function currentUser(req: IncomingMessage, url: URL, res: ServerResponse, portal: PortalState): number {
  const fromQuery = Number(url.searchParams.get("user"));
  if (fromQuery && portal.users.has(fromQuery)) {
    res.setHeader("set-cookie", `fake_user=${fromQuery}; Path=/; SameSite=Lax`);
    return fromQuery;
  }
  const cookie = /(?:^|;\s*)fake_user=(\d+)/.exec(String(req.headers.cookie ?? ""))?.[1];
  return cookie && portal.users.has(Number(cookie)) ? Number(cookie) : 1;
}

function card(ctx: UiContext, entity: Entity, id: number, userId: number, url: URL, lang: string) {
  const rec = ctx.portal.crm[entity].get(id);
  if (!rec) return `<div class="card">No ${entity} ${id}</div>`;
  const code = entity.toUpperCase();
  const tabs = ctx.portal.placements.filter((p) => p.placement === `CRM_${code}_DETAIL_TAB`);
  const widgets = ctx.portal.placements.filter((p) => p.placement === `CRM_${code}_DETAIL_TOOLBAR`);
  const tab = url.searchParams.get("tab");
  const widget = url.searchParams.get("widget");
  const tabLinks = [
    `<a href="?" class="${tab === null ? "on" : ""}">General</a>`,
    ...tabs.map((p, i) => `<a href="?tab=${i}" class="${tab === String(i) ? "on" : ""}">${esc(p.title || "App")}</a>`),
  ].join("");
  const toolbar = widgets.map((p, i) => `<a class="btn" href="?widget=${i}">${esc(p.title || "App")}</a>`).join(" ");
  const fields = Object.entries(ctx.portal.fields[entity]).filter(
    ([k, d]) => !d.isReadOnly && !d.isMultiple && !["crm_multifield", "file"].includes(d.type) && k !== "ID",
  );
  const form = `<form method="POST" class="card">${fields.map(([k, d]) => `<label for="f-${k}">${esc(d.formLabel ?? d.title)}</label><input id="f-${k}" name="fields[${k}]" value="${esc(rec[k])}">`).join("")}
<p><button type="submit">Save</button></p></form>`;
  const selected = tab !== null ? tabs[Number(tab)] : widget !== null ? widgets[Number(widget)] : undefined;
  // a deal card also moves the deal to another funnel; deals and leads show their product rows (ui/items.ts)
  const extras =
    (entity === "deal" ? dealMoveSection(ctx.portal, id) : "") +
    (entity === "deal" || entity === "lead"
      ? productRowsSection(ctx.portal, entity === "deal" ? 2 : 1, id, url.pathname)
      : "");
  const opened =
    selected &&
    frame(ctx, userId, selected.handler, selected.placement, { ID: String(id) }, lang, selected.title || "App");
  const body = opened ? `<div class="card">${opened}</div>` : form + extras;
  return `<h1>${esc(rec.TITLE ?? `${rec.NAME ?? ""} ${rec.LAST_NAME ?? ""}`)}</h1><p>${toolbar}</p><div class="tabs">${tabLinks}</div>${body}`;
}

function list(ctx: UiContext, entity: Entity) {
  const rows = [...ctx.portal.crm[entity].values()]
    .slice(0, 50)
    .map(
      (r) =>
        `<tr><td>${esc(r.ID)}</td><td><a href="/crm/${entity}/details/${esc(r.ID)}/">${esc(r.TITLE ?? `${r.NAME} ${r.LAST_NAME}`)}</a></td><td>${esc(r.DATE_MODIFY)}</td></tr>`,
    )
    .join("");
  return `<h1>${ENTITY_TITLES[entity]}</h1><table><tr><th>ID</th><th>Name</th><th>Modified</th></tr>${rows}</table>`;
}

export async function handleUi(req: IncomingMessage, res: ServerResponse, ctx: UiContext): Promise<void> {
  const url = new URL(req.url ?? "/", ctx.baseUrl);
  const userId = currentUser(req, url, res, ctx.portal);
  const lang = url.searchParams.get("lang") ?? "en";
  const html = (title: string, body: string): void =>
    void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(layout(ctx, userId, title, body));
  const itemRedirect = req.method === "POST" && itemPost(ctx.portal, ctx.fake, url.pathname, ctx.body ?? "", userId);
  if (itemRedirect) return void res.writeHead(303, { location: itemRedirect }).end();
  const typeCard = /^\/crm\/type\/(\d+)\/details\/(\d+)\/?$/.exec(url.pathname);
  if (typeCard) {
    const frameIn = (handler: string, placement: string, options: Record<string, unknown>, title: string) =>
      frame(ctx, userId, handler, placement, options, lang, title);
    const [t, id] = [Number(typeCard[1]), Number(typeCard[2])];
    return html("CRM card", itemCard(ctx.portal, ctx.fake.clock, t, id, url, frameIn));
  }
  const typeList = /^\/crm\/type\/(\d+)\/?$/.exec(url.pathname);
  if (typeList) return html("CRM", itemList(ctx.portal, Number(typeList[1])));
  const cardMatch = /^\/crm\/(deal|contact|company|lead)\/details\/(\d+)\/?$/.exec(url.pathname);
  if (cardMatch && req.method === "POST") {
    const fields = (parseStr(ctx.body ?? "").fields ?? {}) as Record<string, unknown>;
    editAsUser(ctx.fake, ctx.portal, cardMatch[1] as Entity, Number(cardMatch[2]), fields, userId);
    return void res.writeHead(303, { location: url.pathname }).end();
  }
  if (cardMatch) return html("CRM card", card(ctx, cardMatch[1] as Entity, Number(cardMatch[2]), userId, url, lang));
  const listMatch = /^\/crm\/(deal|contact|company|lead)\/?$/.exec(url.pathname);
  if (listMatch) return html(ENTITY_TITLES[listMatch[1] as Entity], list(ctx, listMatch[1] as Entity));
  if (url.pathname === "/notifications/") return html("Notifications", notificationsPage(ctx.portal, userId));
  if (url.pathname === "/docs/") return html("My Drive", drivePage(ctx.portal, userId));
  const driveFile = /^\/docs\/file\/(.+)$/.exec(url.pathname);
  const fileBody = driveFile && driveFilePage(ctx.portal, userId, decodeURIComponent(driveFile[1]!));
  if (fileBody) return html("Drive", fileBody);
  if (url.pathname === "/marketplace/app/")
    return html("Change History", frame(ctx, userId, appPageUrl(ctx.fake), "DEFAULT", {}, lang, "Change History"));
  if (url.pathname === "/marketplace/install/") {
    // A new installation: its ONAPPINSTALL goes out at installFinish (lifecycle.ts sendInstallEvent).
    Object.assign(ctx.portal.app, { installed: true, disabled: false, installEventSent: false });
    return html(
      "Installing",
      frame(ctx, userId, installUrl(ctx.fake), "DEFAULT", {}, lang, "Installing Change History"),
    );
  }
  if (url.pathname === "/frame") {
    const options = JSON.parse(url.searchParams.get("options") ?? "{}") as Record<string, unknown>;
    return html(
      "App",
      frame(
        ctx,
        userId,
        url.searchParams.get("handler") ?? appPageUrl(ctx.fake),
        url.searchParams.get("placement") ?? "DEFAULT",
        options,
        lang,
        "App",
      ),
    );
  }
  if (url.pathname === "/") {
    const a = ctx.portal.app;
    return html(
      "Bitrix24",
      `<div class="card"><h1>Fake Bitrix24 portal</h1><p>App installed: ${a.installed ? "yes" : "no"}, install finished: ${a.finished ? "yes" : "no"}, version ${a.version}.</p>
<p><a class="btn" href="/marketplace/app/">Open Change History</a> <a href="/marketplace/install/">Install again</a> · <a href="/crm/deal/details/1/">Deal #1</a></p></div>`,
    );
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
}
