// The pure heart of the product: which fields of a CRM record changed, with values normalised by field type so that
// the same value in another spelling ("100" vs "100.00", "Y" vs "1", two ISO forms of one instant, a set in another
// order) is not a change. Unit-tested exhaustively in diff.test.ts.

export interface FieldMetaLite { type: string; isMultiple?: boolean; isReadOnly?: boolean; isImmutable?: boolean }
export interface FieldDiff { field: string; oldValue: unknown; newValue: unknown }

/**
 * One item of a multiple field (PHONE, EMAIL, WEB, IM — `crm_multifield`, b24restdocs crm/data-types.md): stored
 * with its ID so a revert can name it in Bitrix24's update form. Changes stored before items were kept hold
 * "VALUE_TYPE:VALUE" strings instead; they are read as items without an ID.
 */
export interface MultiItem { VALUE_TYPE: string; VALUE: string; ID?: string }

/** Bookkeeping fields that change on every save and are not the user's edit. */
export const IGNORED_FIELDS = new Set(["ID", "DATE_MODIFY", "MODIFY_BY_ID", "DATE_CREATE", "CREATED_BY_ID", "MOVED_TIME", "MOVED_BY_ID", "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "LAST_COMMUNICATION_TIME"]);

const isEmpty = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);

/** Form/JSON give arrays as arrays or as objects with numeric keys. */
export function asList(v: unknown): unknown[] {
  if (v === null || v === undefined || v === "") return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "object" && Object.keys(v as object).every((k) => /^\d+$/.test(k))) return Object.values(v as object);
  return [v];
}

function scalar(type: string, v: unknown): unknown {
  if (isEmpty(v)) return null;
  switch (type) {
    case "integer": case "double": case "user": case "employee": {
      const n = Number(String(v).replace(",", "."));
      return Number.isFinite(n) ? n : String(v);
    }
    case "money": {
      const [amount, currency] = String(v).split("|");
      const n = Number(amount);
      return Number.isFinite(n) ? `${n}|${currency ?? ""}` : String(v);
    }
    case "boolean": case "char":
      return ["Y", "1", "true", "TRUE"].includes(String(v)) ? true : ["N", "0", "false", "FALSE"].includes(String(v)) ? false : String(v);
    case "date":
      return String(v).slice(0, 10);
    case "datetime": {
      const t = Date.parse(String(v));
      return Number.isNaN(t) ? String(v) : new Date(t).toISOString();
    }
    case "file":
      return typeof v === "object" ? String((v as Record<string, unknown>).id ?? (v as Record<string, unknown>).ID ?? JSON.stringify(v)) : String(v);
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

function multiItem(v: unknown): MultiItem | null {
  if (typeof v === "string") { // the stored form of older changes: "VALUE_TYPE:VALUE" (a type holds no colon)
    const at = v.indexOf(":");
    return at < 0 ? null : { VALUE_TYPE: v.slice(0, at), VALUE: v.slice(at + 1) };
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (o.VALUE === undefined || o.VALUE === null || String(o.VALUE) === "") return null;
  const item: MultiItem = { VALUE_TYPE: String(o.VALUE_TYPE ?? ""), VALUE: String(o.VALUE) };
  return o.ID === undefined || o.ID === null || o.ID === "" ? item : { ...item, ID: String(o.ID) };
}

/** What an item says, its ID aside: a value saved again under a new ID is the same value. */
export const multiKey = (i: MultiItem) => `${i.VALUE_TYPE}:${i.VALUE}`;

/** A multiple field's items, in a stable order (Bitrix24 returns them in any order). */
export function multiItems(v: unknown): MultiItem[] {
  const items = asList(v).map(multiItem).filter((x): x is MultiItem => x !== null);
  return items.sort((a, b) => multiKey(a).localeCompare(multiKey(b)) || (a.ID ?? "").localeCompare(b.ID ?? ""));
}

/** Two normalised values of a field say the same: multiple fields compare their items' types and values only. */
export function sameValue(meta: FieldMetaLite | undefined, a: unknown, b: unknown): boolean {
  if (meta?.type === "crm_multifield") {
    return JSON.stringify(multiItems(a).map(multiKey)) === JSON.stringify(multiItems(b).map(multiKey));
  }
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface MultiDiff { added: MultiItem[]; removed: MultiItem[]; changed: { from: MultiItem; to: MultiItem }[] }

/**
 * A multiple field's change item by item: items are paired by ID where both sides have it (a changed value or type
 * is one change), the rest by type and value; what is left was removed or added.
 */
export function diffMultiItems(before: unknown, after: unknown): MultiDiff {
  const removed = multiItems(before);
  const added = multiItems(after);
  const changed: MultiDiff["changed"] = [];
  for (const from of [...removed]) {
    const to = from.ID === undefined ? undefined : added.find((x) => x.ID === from.ID);
    if (!to) continue;
    removed.splice(removed.indexOf(from), 1);
    added.splice(added.indexOf(to), 1);
    if (multiKey(from) !== multiKey(to)) changed.push({ from, to });
  }
  for (const from of [...removed]) {
    const i = added.findIndex((x) => multiKey(x) === multiKey(from));
    if (i < 0) continue;
    removed.splice(removed.indexOf(from), 1);
    added.splice(i, 1);
  }
  return { added, removed, changed };
}

/** The normalised value of a field, comparable with sameValue. */
export function normalise(meta: FieldMetaLite | undefined, v: unknown): unknown {
  const type = meta?.type ?? "string";
  if (type === "crm_multifield") {
    const items = multiItems(v);
    return items.length ? items : null;
  }
  if (meta?.isMultiple) {
    const items = asList(v).map((x) => scalar(type, x)).filter((x) => x !== null);
    // Multiple values are sets in Bitrix24: their order carries no meaning.
    return items.length ? [...items].sort((a, b) => String(a).localeCompare(String(b))) : null;
  }
  return scalar(type, v);
}

export function diffRecords(meta: Record<string, FieldMetaLite>, before: Record<string, unknown>, after: Record<string, unknown>): FieldDiff[] {
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: FieldDiff[] = [];
  for (const field of [...fields].sort()) {
    if (IGNORED_FIELDS.has(field)) continue;
    if (!(field in after)) continue; // a field missing from the fetched record was not selected, not cleared
    const oldValue = normalise(meta[field], before[field]);
    const newValue = normalise(meta[field], after[field]);
    if (!sameValue(meta[field], oldValue, newValue)) out.push({ field, oldValue, newValue });
  }
  return out;
}
