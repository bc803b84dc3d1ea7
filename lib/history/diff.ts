// The pure heart of the product: which fields of a CRM record changed, with values normalised by field type so that
// the same value in another spelling ("100" vs "100.00", "Y" vs "1", two ISO forms of one instant, a set in another
// order) is not a change. Unit-tested exhaustively in diff.test.ts.

export interface FieldMetaLite { type: string; isMultiple?: boolean; isReadOnly?: boolean }
export interface FieldDiff { field: string; oldValue: unknown; newValue: unknown }

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
    case "crm_multifield": {
      const o = v as Record<string, unknown>;
      return `${String(o.VALUE_TYPE ?? "")}:${String(o.VALUE ?? "")}`;
    }
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

/** The normalised value of a field, comparable with === after JSON serialisation. */
export function normalise(meta: FieldMetaLite | undefined, v: unknown): unknown {
  const type = meta?.type ?? "string";
  if (meta?.isMultiple || type === "crm_multifield") {
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
    if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) out.push({ field, oldValue, newValue });
  }
  return out;
}
