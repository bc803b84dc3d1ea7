import { crmWrite } from "./core";
import { E, RestError } from "./errors";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import { localFields } from "./directories";
import { acceptFileFields } from "./methods-files";
import { requireItem } from "./methods-items";
import { statusMethods } from "./methods-status";
import { ENTITIES, type CrmRecord, type Entity, type FieldDef } from "./types";
import { idsInOrder } from "./id-index";

// crm.{deal,contact,company,lead}.{fields,get,list,add,update,delete} and timeline comments (files: methods-files.ts).

export function matches(rec: CrmRecord, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([rawKey, want]) => {
    const m = /^(>=|<=|!=|!@|>|<|=|!|%|@)?(.+)$/.exec(rawKey)!;
    const op = m[1] ?? "=";
    const have = rec[m[2]!];
    // Date fields compare as instants: `>=DATE_MODIFY` with an ISO 8601 value and any offset (b24restdocs
    // api-reference/crm/deals/crm-deal-list.md filter prefixes; dates as in api-reference/data-types.md).
    const isDate = (v: unknown) =>
      typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
    const num = (v: unknown) => (isDate(have) && isDate(v) ? Date.parse(String(v)) : Number(v));
    // A form body gives arrays as {"0": …}; JSON as arrays.
    const wants = (Array.isArray(want) ? want : want && typeof want === "object" ? Object.values(want) : [want]).map(
      String,
    );
    switch (op) {
      case ">":
        return num(have) > num(want);
      case ">=":
        return num(have) >= num(want);
      case "<":
        return num(have) < num(want);
      case "<=":
        return num(have) <= num(want);
      case "!":
      case "!=":
      case "!@":
        return !wants.includes(String(have ?? ""));
      case "%":
        return String(have ?? "")
          .toLowerCase()
          .includes(String(want).toLowerCase());
      default:
        return wants.includes(String(have ?? "")); // "=" and "@" (IN)
    }
  });
}

/**
 * The list `select` masks as Bitrix24 documents them (crm-deal-list.md): "*" is every field except custom (UF_*) and
 * multiple ones, "UF_*" every custom field except multiple ones; multiple fields (PHONE, EMAIL, multiple UF_*) come
 * only when named. No select at all means "*" + "UF_*". `get` returns every field.
 */
function project(rec: CrmRecord, select: string[], fields: Record<string, FieldDef>): CrmRecord {
  const masks = select.length ? select : ["*", "UF_*"];
  const multiple = (k: string) => fields[k]?.isMultiple === true;
  const keep = (k: string) =>
    k === "ID" ||
    masks.includes(k) ||
    (!multiple(k) && (k.startsWith("UF_") ? masks.includes("UF_*") : masks.includes("*")));
  return Object.fromEntries(Object.entries(rec).filter(([k]) => keep(k)));
}

/**
 * The candidate ids in list order (id-index.ts: sorted once per added or removed id, so a list of 100 000 records
 * stays O(page)): `@ID` names them, `>ID` (the fast export pattern) starts past the cursor.
 */
function candidates(store: Map<number, CrmRecord>, filter: Record<string, unknown>, desc: boolean) {
  const inIds = filter["@ID"];
  const only =
    inIds === undefined
      ? null
      : new Set(
          (Array.isArray(inIds) ? inIds : typeof inIds === "object" && inIds ? Object.values(inIds) : [inIds]).map(
            Number,
          ),
        );
  const after = filter[">ID"];
  const min = after === undefined || after === "" || Number.isNaN(Number(after)) ? -Infinity : Number(after);
  return idsInOrder(store, min, only, desc);
}

function list(ctx: Ctx, entity: Entity, p: Record<string, unknown>) {
  const filter = (p.filter ?? p.FILTER ?? {}) as Record<string, unknown>;
  const order = (p.order ?? p.ORDER ?? { ID: "ASC" }) as Record<string, string>;
  const raw = p.select ?? p.SELECT ?? [];
  // A form body gives select[]=ID as {"0": "ID"}; JSON gives an array.
  const select = (Array.isArray(raw) ? raw : typeof raw === "object" ? Object.values(raw as object) : [raw]).map(
    String,
  );
  const start = Number(p.start ?? 0);
  const desc = String(Object.values(order)[0] ?? "ASC").toUpperCase() === "DESC";
  const store = ctx.portal.crm[entity];
  const rows: CrmRecord[] = [];
  const limit = start === -1 ? 50 : start + 51;
  let total = 0;
  for (const id of candidates(store, filter, desc)) {
    const rec = store.get(id)!;
    if (!matches(rec, filter) || !mayRead(ctx, entity, id)) continue;
    total++;
    if (rows.length < limit) rows.push(rec);
    else if (start === -1) break;
  }
  if (start === -1)
    return new ListAnswer(
      rows.slice(0, 50).map((r) => project(r, select, ctx.portal.fields[entity])),
      0,
    );
  const page = rows.slice(start, start + 50).map((r) => project(r, select, ctx.portal.fields[entity]));
  return new ListAnswer(page, total, start + 50 < total ? start + 50 : undefined);
}

/**
 * The legacy crm.<entity>.get/update/delete answer a missing record with an EMPTY error code and HTTP 400:
 * `{"error":"","error_description":"Not found"}` (b24restdocs crm/deals/crm-deal-get.md, crm-deal-update.md), and a
 * record the user's CRM role does not let them read or change the same way with "Access denied." (core
 * crm/classes/general/restservice.php: CCrmRestProxyBase collects its errors into one RestException without a code).
 */
function requireRecord(ctx: Ctx, entity: Entity, id: unknown, need: "read" | "write" = "read"): number {
  const n = Number(id);
  if (!Number.isInteger(n) || n <= 0) throw E.arg("ID is not defined or invalid.", "id");
  if (!ctx.portal.crm[entity].has(n)) throw new RestError(400, "", "Not found");
  if (
    !mayRead(ctx, entity, n) ||
    (need === "write" && ctx.portal.rights.denyWrite.has(`${ctx.userId}:${entity}:${n}`))
  ) {
    throw new RestError(400, "", "Access denied.");
  }
  return n;
}

/** A list shows a user only the records their role lets them read (Bitrix24 filters by permissions, never errors). */
export const mayRead = (ctx: Ctx, entity: Entity, id: number) =>
  !ctx.portal.rights.denyRead.has(`${ctx.userId}:${entity}:${id}`);

function entityMethods(entity: Entity): MethodTable {
  return {
    // in the portal's language: a Russian portal titles its fields in Russian (directories.ts)
    [`crm.${entity}.fields`]: (ctx) => localFields(ctx.portal.fields[entity], entity, ctx.portal.lang ?? "en"),
    [`crm.${entity}.get`]: (ctx, p) => ctx.portal.crm[entity].get(requireRecord(ctx, entity, p.id ?? p.ID)),
    [`crm.${entity}.list`]: (ctx, p) => list(ctx, entity, p),
    [`crm.${entity}.add`]: (ctx, p) =>
      crmWrite(
        ctx.fake,
        ctx.portal,
        entity,
        "add",
        null,
        acceptFileFields(ctx, entity, (p.fields ?? {}) as CrmRecord),
        ctx.userId,
        ctx.connector,
      ),
    [`crm.${entity}.update`]: (ctx, p) => {
      const id = requireRecord(ctx, entity, p.id ?? p.ID, "write");
      const fields = acceptFileFields(ctx, entity, (p.fields ?? {}) as CrmRecord, ctx.portal.crm[entity].get(id));
      crmWrite(ctx.fake, ctx.portal, entity, "update", id, fields, ctx.userId, ctx.connector);
      return true;
    },
    [`crm.${entity}.delete`]: (ctx, p) => {
      crmWrite(
        ctx.fake,
        ctx.portal,
        entity,
        "delete",
        requireRecord(ctx, entity, p.id ?? p.ID, "write"),
        {},
        ctx.userId,
        ctx.connector,
      );
      return true;
    },
  };
}

const TYPE_IDS: Record<string, Entity> = {
  "1": "lead",
  "2": "deal",
  "3": "contact",
  "4": "company",
  lead: "lead",
  deal: "deal",
  contact: "contact",
  company: "company",
};

const ITEM_TYPE_IDS: Record<string, number> = { quote: 7, smart_invoice: 31 };

function pairs(files: unknown): { name: string; size: number }[] {
  return Object.values((files ?? {}) as Record<string, unknown>).map((f) => {
    const [name, b64] = typeof f === "object" && f !== null ? Object.values(f as Record<string, string>) : [];
    if (!name || !b64) throw E.arg("FILES must be [name, base64] pairs", "FILES");
    return { name, size: Buffer.from(b64, "base64").length };
  });
}

export const crmMethods: MethodTable = {
  ...Object.assign({}, ...ENTITIES.map(entityMethods)),
  ...statusMethods, // crm.status.list / crm.status.add / crm.category.list
  "crm.timeline.comment.add": (ctx, p) => {
    const f = (p.fields ?? {}) as Record<string, unknown>;
    const name = String(f.ENTITY_TYPE ?? "").toLowerCase();
    const entity = TYPE_IDS[name];
    // Quotes, new invoices and smart-process items by their type's name, QUOTE / SMART_INVOICE / DYNAMIC_<id>
    // (b24restdocs tutorials/crm/how-to-add-crm-objects/how-to-add-comment-to-spa.md; core crm_owner_type.php
    // ResolveID upper-cases the name, so any case is accepted).
    const itemType = ITEM_TYPE_IDS[name] ?? (/^dynamic_(\d+)$/.exec(name) ? Number(name.slice(8)) : undefined);
    if (!entity && (itemType === undefined || !ctx.portal.items.stores.has(itemType))) {
      throw E.arg("ENTITY_TYPE is invalid", "ENTITY_TYPE");
    }
    // a comment needs the right to read the record
    const id = entity ? requireRecord(ctx, entity, f.ENTITY_ID) : requireItem(ctx, itemType!, f.ENTITY_ID);
    ctx.portal.timeline.push({
      ENTITY_TYPE: entity ?? name,
      ENTITY_ID: id,
      COMMENT: String(f.COMMENT ?? ""),
      FILES: pairs(f.FILES),
      AUTHOR_ID: ctx.userId,
    });
    return ctx.portal.timeline.length;
  },
};
