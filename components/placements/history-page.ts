import "server-only";
import { html, jsonScript, type Html } from "@/lib/html";
import { plural, type Dict } from "@/lib/i18n";
import type { HistoryView } from "@/lib/history/view";
import type { HistoryRow } from "@/lib/history/present";
import type { ValuePart } from "@/lib/history/format";

// The CRM tab and the toolbar widget as plain server-rendered HTML: the first render needs no JavaScript at all
// (filters are a GET form, pages are links); /assets/history.js adds the frame (title, height, auth renewal through
// B24Frame) and the two actions (export, revert). Why not a React page: docs/decisions/009-crm-tab-html-first.md.
export const ASSET_VERSION = "3";

export interface PageContext {
  t: Dict;
  lang: "en" | "ru";
  title: string;
  /** the session token: carried in links (`st`) and sent as Bearer by the script */
  token: string | null;
  tokenExpiresAt: number | null;
  canRevert: boolean;
}

function url(base: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  return `${base}?${q.toString()}`;
}

export function shell(ctx: PageContext, mode: "tab" | "widget" | "renew", body: Html, config: Record<string, unknown> = {}): string {
  const strings = { exported: ctx.t.exported, revertConfirm: ctx.t.revertConfirm, overwriteConfirm: ctx.t.overwriteConfirm, reverted: ctx.t.reverted, pending: ctx.t.pending, sessionExpired: ctx.t.sessionExpired };
  return `<!doctype html>${html`<html lang="${ctx.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${ctx.title}</title><link rel="stylesheet" href="/assets/history.css?v=${ASSET_VERSION}"><script type="module" src="/assets/history.js?v=${ASSET_VERSION}"></script></head>
<body><main class="page" data-mode="${mode}">${body}</main>${jsonScript("history-config", { token: ctx.token, expiresAt: ctx.tokenExpiresAt, title: ctx.title, lang: ctx.lang, strings, ...config })}</body></html>`.value}`;
}

/** A merged change says so instead of passing for one edit (docs/history.md "Merged edits"). */
function when(r: HistoryRow, t: Dict): Html {
  const at = html`<time datetime="${r.changedAtIso}">${r.changedAt}</time>`;
  if (!r.mergedFrom) return at;
  const fill: Record<string, string> = { from: r.mergedFrom, to: r.changedAt, who: r.who };
  const text = t.mergedBetween.replace(/\{(from|to|who)\}/g, (_, k: string) => fill[k]!);
  return html`${at}<br><small class="merged" data-merged-from="${r.mergedFromIso ?? ""}">${text}</small>`;
}

/** A value's parts: a long text's removed / added words marked, a file by name with the portal's link. */
function value(text: string, parts: ValuePart[] | undefined): Html | string {
  if (!parts) return text;
  const link = (p: ValuePart) => html`<a href="${p.href}" target="_blank" rel="noopener noreferrer">${p.text}</a>`;
  return html`${parts.map((p) => (p.href ? link(p)
    : p.mark === "del" ? html`<del>${p.text}</del>` : p.mark === "ins" ? html`<ins>${p.text}</ins>` : p.text))}`;
}

function row(r: HistoryRow, t: Dict, canRevert: boolean): Html {
  return html`<tr><td data-label="${t.when}">${when(r, t)}</td><td data-label="${t.field}" class="field">${r.field}</td>
<td data-label="${t.who}">${r.who}</td><td data-label="${t.oldValue}" class="old">${value(r.oldValue, r.oldParts)}</td>
<td data-label="${t.newValue}" class="new">${value(r.newValue, r.newParts)}</td>
${canRevert ? html`<td class="act">${r.revertible ? html`<button type="button" class="link" data-revert="${r.id}" aria-label="${t.revert}: ${r.field}">${t.revert}</button>` : ""}</td>` : ""}</tr>`;
}

export function historyTable(rows: HistoryRow[], t: Dict, canRevert: boolean): Html {
  if (!rows.length) return html`<p class="empty">${t.noChanges}</p>`;
  return html`<div class="grid-wrap"><table class="grid"><caption class="sr-only">${t.history}</caption><thead><tr><th scope="col">${t.when}</th><th scope="col">${t.field}</th>
<th scope="col">${t.who}</th><th scope="col">${t.oldValue}</th><th scope="col">${t.newValue}</th>${canRevert ? html`<th scope="col"><span class="sr-only">${t.revert}</span></th>` : ""}</tr></thead>
<tbody>${rows.map((r) => row(r, t, canRevert))}</tbody></table></div>`;
}

function filters(v: HistoryView, ctx: PageContext, base: string): Html {
  const { t } = ctx;
  const q = v.query;
  const option = (value: string | number, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ""}>${label}</option>`;
  return html`<form class="filters" method="get" action="${base}" role="search" aria-label="${t.filters}">
<input type="hidden" name="st" value="${ctx.token ?? ""}"><input type="hidden" name="entity" value="${q.entity}"><input type="hidden" name="id" value="${q.id}">
<label class="ctl"><span>${t.field}</span><select name="field">${option("", t.allFields, !q.field)}${v.fields.map((f) => option(f.value, f.label, f.value === q.field))}</select></label>
<label class="ctl"><span>${t.who}</span><select name="user">${option("", t.allUsers, !q.user)}${v.users.map((u) => option(u.value, u.label, u.value === q.user))}</select></label>
<button type="submit" class="btn btn-light">${t.apply}</button>${q.field || q.user ? html`<a class="reset" data-nav href="${url(base, { st: ctx.token, entity: q.entity, id: q.id })}">${t.reset}</a>` : ""}</form>`;
}

/** "Deal #9 · Website relaunch": the record by its type in the user's language, its id and its title. */
function recordName(v: HistoryView): Html {
  const { type, title } = v.record;
  const named = title ? html` · <strong class="rec-title">${title}</strong>` : "";
  return html`<span class="rec-type">${type} #${v.query.id}</span>${named}`;
}

export function renderHistoryTab(v: HistoryView, ctx0: PageContext): string {
  const { type, title } = v.record;
  const record = `${type} #${v.query.id}`;
  const ctx = { ...ctx0, title: `${ctx0.t.history} — ${title ? `${title} (${record})` : record}` };
  const { t } = ctx;
  const q = v.query;
  const base = "/placements/tab";
  const keep = { st: ctx.token, entity: q.entity, id: q.id, field: q.field, user: q.user };
  const pager = q.cursor || v.next ? html`<nav class="pager" aria-label="${t.pages}">${q.cursor ? html`<a data-nav href="${url(base, keep)}">← ${t.newest}</a>` : ""}
${v.next ? html`<a data-nav rel="next" href="${url(base, { ...keep, cursor: v.next })}">${t.older} →</a>` : ""}</nav>` : "";
  const count = html`<span data-total>${v.total}</span> ${plural(ctx.lang, v.total, t.changesCount)}`;
  const body = html`<header class="head"><h1>${t.history}</h1><p class="sub">${recordName(v)} · ${count}</p></header>
<div class="bar">${filters(v, ctx, base)}<div class="actions"><button type="button" class="btn btn-light" data-export>${t.exportCsv}</button><span class="status" role="status" aria-live="polite"></span></div></div>
${historyTable(v.rows, t, ctx.canRevert)}${pager}`;
  return shell(ctx, "tab", body, { entity: q.entity, id: q.id });
}

export function renderHistoryWidget(v: HistoryView, ctx: PageContext): string {
  const count = `${v.total} ${plural(ctx.lang, v.total, ctx.t.changesCount)}`;
  const sub = html`<p class="sub">${recordName(v)} · ${count}</p>`;
  const body = html`<header class="head"><h1>${ctx.t.recentChanges}</h1>${sub}</header>
${historyTable(v.rows, ctx.t, false)}`;
  return shell(ctx, "widget", body);
}

/** No valid session (expired hand-off token): the script renews it through B24Frame and reloads, silently. */
export function renderRenew(ctx: PageContext): string {
  return shell(ctx, "renew", html`<p class="notice" role="status" data-renew>${ctx.t.reconnecting}</p>`, { renew: true });
}
