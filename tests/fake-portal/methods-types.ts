import { RestError } from "./errors";
import type { ItemField } from "./items-model";
import { asList, asObject, compileFilter, page, sortRows, type Row } from "./items-query";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { CrmType, FieldDef, StageHistoryRow } from "./types";

// crm.type.list / crm.type.get / crm.type.getByEntityTypeId (crm/universal/user-defined-object-types/*.md) and
// crm.stagehistory.list (crm/crm-stage-history-list.md).

const def = (type: string): FieldDef => ({
  type,
  isRequired: false,
  isReadOnly: true,
  isImmutable: false,
  isMultiple: false,
  isDynamic: false,
  title: "",
});
const plain = (names: [string, string][]): ItemField[] =>
  names.map(([name, type]) => ({ name, upper: name, key: name, def: def(type) }));

/** A type as crm-type-list.md answers it: flags as "Y" / "N" between entityTypeId and the times. */
function typeOut(t: CrmType) {
  return {
    id: t.id,
    title: t.title,
    code: t.code,
    createdBy: t.createdBy,
    entityTypeId: t.entityTypeId,
    customSectionId: null,
    ...t.flags,
    createdTime: t.createdTime,
    updatedTime: t.updatedTime,
    updatedBy: t.updatedBy,
  };
}

/** "Who can execute the method: any user with administrative access to the CRM section"; others ACCESS_DENIED 400. */
function crmAdminOnly(ctx: Ctx) {
  if (!ctx.isAdmin) throw new RestError(400, "ACCESS_DENIED", "Access denied");
}

const TYPE_FIELDS = plain([
  ["id", "integer"],
  ["entityTypeId", "integer"],
  ["title", "string"],
  ["code", "string"],
  ["createdTime", "datetime"],
  ["updatedTime", "datetime"],
  ["createdBy", "integer"],
  ["updatedBy", "integer"],
]);

function listTypes(ctx: Ctx, p: Row) {
  crmAdminOnly(ctx);
  const rows: Row[] = ctx.portal.items.types.map(typeOut);
  const matches = compileFilter(asObject(p.filter), TYPE_FIELDS, (f) => f.name);
  const found = rows.filter(matches);
  sortRows(
    found,
    Object.keys(asObject(p.order)).length ? asObject(p.order) : { id: "DESC" },
    TYPE_FIELDS,
    (f) => f.name,
    "id",
  );
  const { rows: types, total, next } = page(found, p.start);
  return new ListAnswer({ types }, total, next);
}

function getType(ctx: Ctx, match: (t: CrmType) => boolean) {
  crmAdminOnly(ctx);
  const t = ctx.portal.items.types.find(match);
  if (!t) throw new RestError(400, "NOT_FOUND", "Smart process not found");
  return { type: typeOut(t) };
}

const HISTORY_FIELDS = plain([
  ["ID", "integer"],
  ["TYPE_ID", "integer"],
  ["OWNER_ID", "integer"],
  ["CREATED_TIME", "datetime"],
  ["CATEGORY_ID", "integer"],
  ["STAGE_SEMANTIC_ID", "string"],
  ["STAGE_ID", "string"],
  ["STATUS_SEMANTIC_ID", "string"],
  ["STATUS_ID", "string"],
]);

/** A record as the docs show it: leads carry STATUS_ID / STATUS_SEMANTIC_ID, others CATEGORY_ID and STAGE_*. */
function historyOut(r: StageHistoryRow): Row {
  const base = { ID: r.ID, TYPE_ID: r.TYPE_ID, OWNER_ID: r.OWNER_ID, CREATED_TIME: r.CREATED_TIME };
  if (r.entityTypeId === 1) return { ...base, STATUS_SEMANTIC_ID: r.SEMANTIC_ID, STATUS_ID: r.STAGE_ID };
  return { ...base, CATEGORY_ID: r.CATEGORY_ID, STAGE_SEMANTIC_ID: r.SEMANTIC_ID, STAGE_ID: r.STAGE_ID };
}

const TYPE_NAMES: Record<number, string> = { 3: "CONTACT", 4: "COMPANY", 7: "QUOTE", 5: "INVOICE" };

/**
 * crm.stagehistory.list {entityTypeId: 1 | 2 | 31 | SPA}: `{items: [...]}` with total/next, `filter` (OWNER_ID,
 * `>ID`, `>=CREATED_TIME`…), `order` (ID ASC by default), `select`. Other types: ENTITY_TYPE_NOT_SUPPORTED. The
 * docs name no author field, so none is answered.
 */
function listStageHistory(ctx: Ctx, p: Row) {
  const t = Number(p.entityTypeId ?? p.ENTITY_TYPE_ID);
  const supported = t === 1 || t === 2 || (ctx.portal.items.stores.has(t) && t !== 7);
  if (!supported) {
    throw new RestError(
      400,
      "ENTITY_TYPE_NOT_SUPPORTED",
      `Entity type \`${TYPE_NAMES[t] ?? `DYNAMIC_${t}`}\` is not supported`,
    );
  }
  const rows = ctx.portal.items.stageHistory
    .filter((r) => r.entityTypeId === t)
    .map(historyOut)
    .filter(compileFilter(asObject(p.filter), HISTORY_FIELDS, (f) => f.name));
  sortRows(
    rows,
    Object.keys(asObject(p.order)).length ? asObject(p.order) : { ID: "ASC" },
    HISTORY_FIELDS,
    (f) => f.name,
    "ID",
  );
  const select = asList(p.select).map(String);
  const { rows: items, total, next } = page(rows, p.start);
  const picked =
    select.length && !select.includes("*")
      ? items.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k === "ID" || select.includes(k))))
      : items;
  return new ListAnswer({ items: picked }, total, next);
}

export const typeMethods: MethodTable = {
  "crm.type.list": listTypes,
  "crm.type.get": (ctx, p) => getType(ctx, (t) => t.id === Number(p.id)),
  "crm.type.getbyentitytypeid": (ctx, p) => getType(ctx, (t) => t.entityTypeId === Number(p.entityTypeId)),
  "crm.stagehistory.list": listStageHistory,
};
