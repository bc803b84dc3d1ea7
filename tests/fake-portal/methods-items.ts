import { RestError } from "./errors";
import { localFields } from "./directories";
import { FM_FIELD, LEGACY_BY_TYPE_ID, QUOTE, SMART_INVOICE, fromItemFields, itemFields, toItem } from "./items-model";
import { PAGE, asList, asObject, compileFilter, page, sortRows, yes, type Row } from "./items-query";
import { acceptItemFiles } from "./item-files";
import { itemWrite } from "./items-store";
import { eventMethods } from "./methods-events";
import { productRowMethods } from "./methods-productrows";
import { statusMethods } from "./methods-status";
import { typeMethods } from "./methods-types";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { CrmRecord, PortalState } from "./types";
import { idsInOrder } from "./id-index";

// crm.item.{fields,get,list,add,update,delete} for leads, deals, contacts, companies (the records crm.<entity>.*
// serve), quotes (7), new invoices (31) and smart processes (>= 128) — b24restdocs api-reference/crm/universal/
// crm-item-*.md: camelCase names, `{item}` / `{items}` / `{fields}` answers, `useOriginalUfNames`. Types, stage
// history: methods-types.ts; product rows: methods-productrows.ts.

/** The type's entityTypeId, checked: old invoices (5) are ENTITY_TYPE_NOT_SUPPORTED, an unknown type NOT_FOUND. */
export function requireType(ctx: Ctx, p: Row): number {
  const t = Number(p.entityTypeId ?? p.ENTITY_TYPE_ID);
  if (t === 5) throw new RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type `INVOICE` is not supported");
  if (!Number.isInteger(t) || !itemFields(ctx.portal, t))
    throw new RestError(400, "NOT_FOUND", "Smart process not found");
  return t;
}

export const recordsOf = (portal: PortalState, t: number): Map<number, CrmRecord> =>
  LEGACY_BY_TYPE_ID[t] ? portal.crm[LEGACY_BY_TYPE_ID[t]!] : portal.items.stores.get(t)!.records;

/** Rights as POST /_fake/rights sets them: `<user>:<deal|…|lead>:<id>`, other types `<user>:<entityTypeId>:<id>`. */
const rightsKey = (ctx: Ctx, t: number, id: number) => `${ctx.userId}:${LEGACY_BY_TYPE_ID[t] ?? t}:${id}`;
export const mayRead = (ctx: Ctx, t: number, id: number) => !ctx.portal.rights.denyRead.has(rightsKey(ctx, t, id));
const mayWrite = (ctx: Ctx, t: number, id: number) =>
  mayRead(ctx, t, id) && !ctx.portal.rights.denyWrite.has(rightsKey(ctx, t, id));

/** An existing item the caller may read (or change): NOT_FOUND / ACCESS_DENIED as crm-item-get.md lists them. */
export function requireItem(ctx: Ctx, t: number, rawId: unknown, need: "read" | "write" = "read"): number {
  const id = Number(rawId);
  if (!Number.isInteger(id) || id <= 0 || !recordsOf(ctx.portal, t).has(id))
    throw new RestError(400, "NOT_FOUND", "Item not found");
  if (!(need === "read" ? mayRead : mayWrite)(ctx, t, id)) {
    throw new RestError(
      400,
      "ACCESS_DENIED",
      need === "read" ? "You do not have permission to view this item" : "Access denied",
    );
  }
  return id;
}

const itemOf = (ctx: Ctx, t: number, id: number, p: Row) =>
  toItem(
    ctx.portal,
    ctx.fake.clock,
    t,
    recordsOf(ctx.portal, t).get(id)!,
    yes(p.useOriginalUfNames),
    undefined,
    ctx.token,
  );

/** crm.item.fields: `{fields: {<name>: {type, isRequired, …, title, upperName}}}` in the portal's language. */
function fieldsOf(ctx: Ctx, p: Row) {
  const t = requireType(ctx, p);
  const legacy = LEGACY_BY_TYPE_ID[t];
  // every type's titles in the portal's language, not only the legacy four's (a Russian portal's smart process says
  // "Сумма", not "Amount")
  const local = legacy
    ? localFields(ctx.portal.fields[legacy], legacy, ctx.portal.lang ?? "en")
    : localFields(ctx.portal.items.stores.get(t)!.fields, "item", ctx.portal.lang ?? "en");
  const out: Record<string, unknown> = {};
  for (const f of itemFields(ctx.portal, t)!) {
    out[yes(p.useOriginalUfNames) && f.def.isDynamic ? f.upper : f.name] = {
      ...(local?.[f.key] ?? f.def),
      upperName: f.upper,
    };
  }
  if (legacy && legacy !== "deal") out.fm = { ...FM_FIELD, upperName: "FM" };
  return { fields: out };
}

/**
 * The top-level `>id` and `@id` of a filter as a cheap test on ids, applied before items are built (the full filter
 * still runs on each item): a keyset page through 3 000 deals must not build every item before the cursor.
 */
function idBounds(filter: Row): { after: number; only: Set<number> | null } {
  const after = filter[">id"] ?? filter[">ID"];
  const list = filter["@id"] ?? filter["@ID"];
  const only = list === undefined ? null : new Set(asList(list).map(Number));
  return { after: after === undefined || Number.isNaN(Number(after)) ? -Infinity : Number(after), only };
}

/**
 * A record surely outside a `>=updatedTime` / `>updatedTime` filter, told from its stored modification time without
 * building its item (a sweep's `>=updatedTime` page over a million records; the full filter still decides the rest).
 */
function modifiedBefore(filter: Row, legacy: boolean): (rec: CrmRecord) => boolean {
  const [op, since] =
    [">=", ">"].map((o) => [o, filter[`${o}updatedTime`]] as const).find(([, v]) => v !== undefined) ?? [];
  const bound = since === undefined ? NaN : Date.parse(String(since));
  if (Number.isNaN(bound)) return () => false;
  return (rec) => {
    const at = Date.parse(String((legacy ? rec.DATE_MODIFY : rec.UPDATED_TIME) ?? ""));
    return !Number.isNaN(at) && (op === ">=" ? at < bound : at <= bound);
  };
}

/**
 * crm.item.list: `select` (names or "*"; nothing = "*"; `id` always), `filter` on item values (`>id`, `@id`,
 * `>=updatedTime` compared as instants…), `order` (id ASC by default), `start` (-1: no count). Only the items the
 * user may read are listed ("will not be included in the final selection", crm-item-list.md).
 */
function listItems(ctx: Ctx, p: Row) {
  const t = requireType(ctx, p);
  const fields = itemFields(ctx.portal, t)!;
  const originalUf = yes(p.useOriginalUfNames);
  const matches = compileFilter(asObject(p.filter), fields, (f) => f.name);
  const order = Object.keys(asObject(p.order)).length ? asObject(p.order) : { id: "ASC" };
  const fastOrder = Object.keys(order).length === 1 && ["id", "ID"].includes(Object.keys(order)[0]!);
  const records = recordsOf(ctx.portal, t);
  const { after, only } = idBounds(asObject(p.filter));
  const desc = fastOrder && String(Object.values(order)[0]).toUpperCase() === "DESC";
  const quick = fastOrder && Number(p.start) === -1; // huge-data.md's `>id` + start -1: stop at 50 found
  const outside = modifiedBefore(asObject(p.filter), LEGACY_BY_TYPE_ID[t] !== undefined);
  const rows: Row[] = [];
  for (const id of idsInOrder(records, after, only, desc)) {
    if (!mayRead(ctx, t, id) || outside(records.get(id)!)) continue;
    const item = toItem(ctx.portal, ctx.fake.clock, t, records.get(id)!, false, fields, ctx.token);
    if (!matches(item)) continue;
    rows.push(item);
    if (quick && rows.length >= PAGE) break;
  }
  if (!fastOrder) sortRows(rows, order, fields, (f) => f.name, "id");
  const { rows: pageRows, total, next } = page(rows, p.start);
  const select = asList(p.select).map(String);
  const all = !select.length || select.includes("*");
  // "the multifield `fm` arrives only when `select` is omitted or equals [\"*\"]" (b24restdocs
  // api-reference/crm/universal/object-fields.md#select)
  const withFm = !select.length || (select.length === 1 && select[0] === "*");
  const wanted = new Set(select.flatMap((s) => fields.filter((f) => f.name === s || f.upper === s).map((f) => f.name)));
  const items = pageRows.map((item) =>
    Object.fromEntries(
      Object.entries(item).flatMap(([k, v]) => {
        if (k === "fm" && !withFm) return [];
        if (!all && k !== "id" && !wanted.has(k)) return [];
        const f = originalUf ? fields.find((x) => x.name === k && x.def.isDynamic) : undefined;
        return [[f ? f.upper : k, v]];
      }),
    ),
  );
  return new ListAnswer({ items }, total, next);
}

/** `fields` of an add/update with its file values checked and stored (item-files.ts), as record keys and values. */
const written = (ctx: Ctx, t: number, p: Row, before?: CrmRecord) =>
  fromItemFields(ctx.portal, t, acceptItemFiles(ctx, itemFields(ctx.portal, t)!, asObject(p.fields), before));

function addItem(ctx: Ctx, p: Row) {
  const t = requireType(ctx, p);
  const id = itemWrite(ctx.fake, ctx.portal, t, "add", null, written(ctx, t, p), ctx.userId, ctx.connector);
  return { item: itemOf(ctx, t, id, p) };
}

function updateItem(ctx: Ctx, p: Row) {
  const t = requireType(ctx, p);
  const id = requireItem(ctx, t, p.id ?? p.ID, "write");
  itemWrite(
    ctx.fake,
    ctx.portal,
    t,
    "update",
    id,
    written(ctx, t, p, recordsOf(ctx.portal, t).get(id)),
    ctx.userId,
    ctx.connector,
  );
  return { item: itemOf(ctx, t, id, p) };
}

/** crm.item.delete answers `"result": []` (crm-item-delete.md). */
function deleteItem(ctx: Ctx, p: Row) {
  const t = requireType(ctx, p);
  itemWrite(
    ctx.fake,
    ctx.portal,
    t,
    "delete",
    requireItem(ctx, t, p.id ?? p.ID, "write"),
    {},
    ctx.userId,
    ctx.connector,
  );
  return [];
}

/** Funnels of new invoices and SPAs (crm/universal/category/crm-category-list.md); quotes have none. */
function listCategories(ctx: Ctx, p: Row) {
  const t = Number(p.entityTypeId ?? p.ENTITY_TYPE_ID);
  if (t === QUOTE) throw new RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type `QUOTE` is not supported");
  const store = t === SMART_INVOICE || t >= 128 ? ctx.portal.items.stores.get(t) : undefined;
  if (!store) return statusMethods["crm.category.list"]!(ctx, p);
  const categories = store.categories.map((c, i) => ({
    id: c.id,
    name: c.name,
    sort: (i + 1) * 100,
    entityTypeId: t,
    isDefault: i === 0 ? "Y" : "N",
  }));
  return new ListAnswer({ categories }, categories.length);
}

/** placement.list also names the detail tabs of quotes, new invoices and every smart process (widgets/crm). */
function listPlacements(ctx: Ctx, p: Row) {
  const base = eventMethods["placement.list"]!(ctx, p) as string[];
  const dynamic = ctx.portal.items.types.map((t) => `CRM_DYNAMIC_${t.entityTypeId}_DETAIL_TAB`);
  return [...base, "CRM_QUOTE_DETAIL_TAB", "CRM_SMART_INVOICE_DETAIL_TAB", ...dynamic];
}

export const itemMethods: MethodTable = {
  "crm.item.fields": fieldsOf,
  "crm.item.get": (ctx, p) => {
    const t = requireType(ctx, p);
    return { item: itemOf(ctx, t, requireItem(ctx, t, p.id ?? p.ID), p) };
  },
  "crm.item.list": listItems,
  "crm.item.add": addItem,
  "crm.item.update": updateItem,
  "crm.item.delete": deleteItem,
  "crm.category.list": listCategories,
  "placement.list": listPlacements,
  ...typeMethods,
  ...productRowMethods,
};
