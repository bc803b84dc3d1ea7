import { DEAL_CATEGORIES, seedStatuses, type StatusRow } from "./directories";
import { RestError } from "./errors";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { PortalState } from "./types";

// The names behind a CRM record's codes: crm.status.list (stages, lead statuses, sources, industries...), crm.status.add
// (an admin adds a stage) and crm.category.list (deal funnels), in the portal's language (directories.ts).

export const statusesOf = (portal: PortalState): StatusRow[] => (portal.statuses ??= seedStatuses());

const SEMANTICS = { S: "success", F: "failure" } as const;

/**
 * A row as b24restdocs crm/status/crm-status-list.md shows it: strings for ID and SORT, NAME_INIT (the system name,
 * empty for a stage someone added), CATEGORY_ID null outside funnels, EXTRA.SEMANTICS process | success | failure.
 */
function statusRow(s: StatusRow, portal: PortalState) {
  const NAME = s.names[portal.lang ?? "en"];
  return {
    ID: String(s.ID),
    ENTITY_ID: s.ENTITY_ID,
    STATUS_ID: s.STATUS_ID,
    NAME,
    NAME_INIT: s.SYSTEM === "Y" ? NAME : "",
    SORT: String(s.SORT),
    SYSTEM: s.SYSTEM,
    CATEGORY_ID: s.CATEGORY_ID,
    COLOR: s.COLOR,
    SEMANTICS: s.SEMANTICS,
    EXTRA: { SEMANTICS: s.SEMANTICS ? SEMANTICS[s.SEMANTICS] : "process", COLOR: s.COLOR },
  };
}

const objectParam = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});

/**
 * crm.status.list: `filter` by equality of any field (ENTITY_ID: "DEAL_STAGE_1" is funnel 1's stages), `order`
 * (SORT ASC by default). The whole list in one answer with `total` and no `next`, as the docs' example answers 8
 * rows with `"total": 8`; an app should still follow `next` if a portal sends one.
 */
function listStatuses(ctx: Ctx, p: Record<string, unknown>) {
  const filter = objectParam(p.filter ?? p.FILTER);
  const [orderKey = "SORT", dir = "ASC"] = Object.entries(objectParam(p.order ?? p.ORDER))[0] ?? [];
  const rows = statusesOf(ctx.portal)
    .map((s) => statusRow(s, ctx.portal))
    .filter((r) =>
      Object.entries(filter).every(([k, v]) => String((r as Record<string, unknown>)[k] ?? "") === String(v)),
    );
  const key = (r: Record<string, unknown>) =>
    ["ID", "SORT"].includes(orderKey) ? Number(r[orderKey]) : String(r[orderKey] ?? "");
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : Number(a.ID) - Number(b.ID)));
  if (String(dir).toUpperCase() === "DESC") rows.reverse();
  return new ListAnswer(rows, rows.length);
}

/** crm.status.add (crm-status-add.md): ENTITY_ID, STATUS_ID and NAME required; answers the new row's ID. */
function addStatus(ctx: Ctx, p: Record<string, unknown>) {
  const f = objectParam(p.fields ?? p.FIELDS);
  const [entityId, statusId, name] = [f.ENTITY_ID, f.STATUS_ID, f.NAME].map((v) => String(v ?? ""));
  if (!entityId || !statusId || !name) throw new RestError(400, "", "Required fields: ENTITY_ID, STATUS_ID, NAME.");
  const rows = statusesOf(ctx.portal);
  if (rows.some((s) => s.ENTITY_ID === entityId && s.STATUS_ID === statusId))
    throw new RestError(400, "", "Duplicate STATUS_ID.");
  const ID = Math.max(0, ...rows.map((s) => s.ID)) + 2;
  const SORT = Number(f.SORT ?? Math.max(0, ...rows.filter((s) => s.ENTITY_ID === entityId).map((s) => s.SORT)) + 10);
  rows.push({
    ID,
    ENTITY_ID: entityId,
    STATUS_ID: statusId,
    names: { en: name, ru: name },
    SORT,
    SYSTEM: "N",
    CATEGORY_ID: /^DEAL_STAGE_(\d+)$/.exec(entityId)?.[1] ?? null,
    COLOR: String(f.COLOR ?? "#ACE9FB"),
    SEMANTICS: null,
  });
  return ID;
}

/**
 * crm.category.list (crm/universal/category/crm-category-list.md): `{categories: [...]}` with `total`, for deals
 * (entityTypeId 2) the default funnel 0 included; leads have no funnels (ENTITY_TYPE_NOT_SUPPORTED), an unknown type is
 * NOT_FOUND. Contacts' and companies' funnels are not modelled (the fake's contacts and companies have no CATEGORY_ID).
 */
function listCategories(ctx: Ctx, p: Record<string, unknown>) {
  const type = Number(p.entityTypeId ?? p.ENTITY_TYPE_ID);
  if (type === 1) throw new RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type `LEAD` is not supported");
  if (type !== 2) throw new RestError(400, "NOT_FOUND", "Smart process not found");
  const categories = [...DEAL_CATEGORIES]
    .sort((a, b) => a.sort - b.sort || a.id - b.id)
    .map((c) => ({
      id: c.id,
      name: c.names[ctx.portal.lang ?? "en"],
      sort: c.sort,
      entityTypeId: 2,
      isDefault: c.isDefault,
      ...(c.isDefault === "Y" ? {} : { originId: "", originatorId: "" }),
    }));
  return new ListAnswer({ categories }, categories.length);
}

export const statusMethods: MethodTable = {
  "crm.status.list": listStatuses,
  "crm.status.add": addStatus,
  "crm.category.list": listCategories,
};
