import { DEAL_CATEGORIES } from "../directories";
import { LEGACY_BY_TYPE_ID, fromItemFields, itemFields, ownerTypeAbbr, toItem } from "../items-model";
import { itemWrite, ownerIs } from "../items-store";
import { editAsUser } from "../lifecycle";
import { recordsOf } from "../methods-items";
import { touchOwner } from "../methods-productrows";
import { parseStr } from "../php";
import type { PortalState } from "../types";
import { esc } from "./esc";

// The portal's cards of quotes, new invoices and smart-process items (/crm/type/<entityTypeId>/details/<id>/, the
// address Bitrix24 gives them) with the app's bound tab, a field form, the product rows with an editable quantity,
// and on a deal card a form that moves the deal to another funnel. Writes go through the same paths as REST.

/** The detail-tab placement of a type (api-reference/widgets/crm/detail-tab.md). */
export function tabPlacement(entityTypeId: number): string {
  if (entityTypeId === 7) return "CRM_QUOTE_DETAIL_TAB";
  if (entityTypeId === 31) return "CRM_SMART_INVOICE_DETAIL_TAB";
  return `CRM_DYNAMIC_${entityTypeId}_DETAIL_TAB`;
}

export function typeTitle(portal: PortalState, t: number): string {
  if (t === 7) return "Quotes";
  if (t === 31) return "Invoices";
  return portal.items.types.find((x) => x.entityTypeId === t)?.title ?? `Type ${t}`;
}

export const itemNav = (portal: PortalState) =>
  [...portal.items.types.map((t) => t.entityTypeId), 7, 31]
    .map((t) => `<a href="/crm/type/${t}/">${esc(typeTitle(portal, t))}</a>`)
    .join("");

/** The product rows of an owner, each with its quantity in a form (POST /crm/productrow/<id>/). */
export function productRowsSection(portal: PortalState, entityTypeId: number, ownerId: number, back: string): string {
  const rows = portal.items.productRows.filter((r) => r.ownerId === ownerId && ownerIs(r.ownerType, entityTypeId));
  if (!rows.length) return "";
  const line = (r: (typeof rows)[number]) =>
    `<tr><td>${esc(r.productName)}</td><td>${esc(r.price)}</td><td><form method="POST" ` +
    `action="/crm/productrow/${r.id}/"><input type="hidden" name="back" value="${esc(back)}">` +
    `<input id="qty-${r.id}" name="quantity" value="${esc(r.quantity)}" style="width:80px"> ` +
    `<button type="submit">Save quantity</button></form></td></tr>`;
  return (
    `<div class="card"><h3>Products</h3><table id="product-rows"><tr><th>Product</th><th>Price</th>` +
    `<th>Quantity</th></tr>${rows.map(line).join("")}</table></div>`
  );
}

/** A deal card's funnel move (Bitrix24's "Change pipeline" in the card): POST /crm/deal/details/<id>/move/. */
export function dealMoveSection(portal: PortalState, id: number): string {
  const deal = portal.crm.deal.get(id);
  const options = DEAL_CATEGORIES.map(
    (c) =>
      `<option value="${c.id}"${
        String(c.id) === String(deal?.CATEGORY_ID) ? " selected" : ""
      }>${esc(c.names[portal.lang ?? "en"])}</option>`,
  ).join("");
  return (
    `<form method="POST" action="/crm/deal/details/${id}/move/" class="card"><label for="move-category">Pipeline` +
    `</label><select id="move-category" name="categoryId">${options}</select> ` +
    `<button type="submit">Move</button></form>`
  );
}

/** The field form of an item card: every writable single field under its item name. */
function itemForm(portal: PortalState, t: number, item: Record<string, unknown>): string {
  const fields = (itemFields(portal, t) ?? []).filter((f) => !f.def.isReadOnly && !f.def.isMultiple && f.name !== "id");
  const inputs = fields
    .map(
      (f) =>
        `<label for="f-${f.name}">${esc(f.def.formLabel ?? f.def.title)}</label>` +
        `<input id="f-${f.name}" name="fields[${f.name}]" value="${esc(item[f.name])}">`,
    )
    .join("");
  return `<form method="POST" class="card">${inputs}<p><button type="submit">Save</button></p></form>`;
}

type Frame = (handler: string, placement: string, options: Record<string, unknown>, title: string) => string;

export function itemCard(
  portal: PortalState,
  clock: Parameters<typeof toItem>[1],
  t: number,
  id: number,
  url: URL,
  frame: Frame,
): string {
  const rec = itemFields(portal, t) && !LEGACY_BY_TYPE_ID[t] ? recordsOf(portal, t).get(id) : undefined;
  if (!rec) return `<div class="card">No item ${t}/${id}</div>`;
  const item = toItem(portal, clock, t, rec);
  const tabs = portal.placements.filter((p) => p.placement === tabPlacement(t));
  const tab = url.searchParams.get("tab");
  const links = [
    `<a href="?" class="${tab === null ? "on" : ""}">General</a>`,
    ...tabs.map((p, i) => `<a href="?tab=${i}" class="${tab === String(i) ? "on" : ""}">${esc(p.title || "App")}</a>`),
  ].join("");
  const selected = tab !== null ? tabs[Number(tab)] : undefined;
  const body = selected
    ? `<div class="card">${frame(selected.handler, selected.placement, { ID: String(id) }, selected.title || "App")}` +
      `</div>`
    : itemForm(portal, t, item) + productRowsSection(portal, t, id, url.pathname);
  return (
    `<h1>${esc(item.title)}</h1><p>${esc(typeTitle(portal, t))} · ${esc(item.stageId)}</p>` +
    `<div class="tabs">${links}</div>${body}`
  );
}

export function itemList(portal: PortalState, t: number): string {
  if (!itemFields(portal, t) || LEGACY_BY_TYPE_ID[t]) return `<div class="card">No type ${t}</div>`;
  const rows = [...recordsOf(portal, t).values()]
    .slice(0, 50)
    .map(
      (r) =>
        `<tr><td>${esc(r.ID)}</td><td>` +
        `<a href="/crm/type/${t}/details/${esc(r.ID)}/">${esc(r.TITLE)}</a></td><td>${esc(r.UPDATED_TIME)}</td></tr>`,
    );
  const head = "<tr><th>ID</th><th>Name</th><th>Modified</th></tr>";
  return `<h1>${esc(typeTitle(portal, t))}</h1><table>${head}${rows.join("")}</table>`;
}

/**
 * The writes of these pages, as the acting user: an item's fields, a deal's funnel, a product row's quantity.
 * Answers where to redirect, or null when the path is not one of them.
 */
export function itemPost(
  portal: PortalState,
  fake: Parameters<typeof itemWrite>[0],
  path: string,
  body: string,
  userId: number,
): string | null {
  const form = parseStr(body) as Record<string, unknown>;
  const card = /^\/crm\/type\/(\d+)\/details\/(\d+)\/?$/.exec(path);
  if (card) {
    const [t, id] = [Number(card[1]), Number(card[2])];
    const fields = fromItemFields(portal, t, (form.fields ?? {}) as Record<string, unknown>);
    if (recordsOf(portal, t).has(id)) itemWrite(fake, portal, t, "update", id, fields, userId);
    return path;
  }
  const move = /^\/crm\/deal\/details\/(\d+)\/move\/?$/.exec(path);
  if (move) {
    editAsUser(fake, portal, "deal", Number(move[1]), { CATEGORY_ID: String(form.categoryId ?? "0") }, userId);
    return `/crm/deal/details/${move[1]}/`;
  }
  const row = /^\/crm\/productrow\/(\d+)\/?$/.exec(path);
  if (row) {
    const r = portal.items.productRows.find((x) => x.id === Number(row[1]));
    if (r) {
      r.quantity = Number(form.quantity ?? r.quantity);
      const t = Object.keys(LEGACY_BY_TYPE_ID)
        .map(Number)
        .concat(
          [7, 31],
          portal.items.types.map((x) => x.entityTypeId),
        )
        .find((x) => ownerTypeAbbr(x)?.toLowerCase() === r.ownerType.toLowerCase());
      if (t !== undefined) touchOwner(fake, portal, t, r.ownerId, userId);
    }
    return String(form.back ?? "/");
  }
  return null;
}
