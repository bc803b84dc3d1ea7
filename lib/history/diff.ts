// The pure heart of the product: which fields of a CRM record changed, with values normalised by field type so that
// the same value in another spelling ("100" vs "100.00", "Y" vs "1", two ISO forms of one instant, a set in another
// order) is not a change. Unit-tested exhaustively in diff.test.ts.

export interface FieldMetaLite {
  type: string;
  isMultiple?: boolean;
  isReadOnly?: boolean;
  isImmutable?: boolean;
}
export interface FieldDiff {
  field: string;
  oldValue: unknown;
  newValue: unknown;
}

/**
 * One item of a multiple field (PHONE, EMAIL, WEB, IM — `crm_multifield`, b24restdocs crm/data-types.md): stored
 * with its ID so a revert can name it in Bitrix24's update form. Changes stored before items were kept hold
 * "VALUE_TYPE:VALUE" strings instead; they are read as items without an ID.
 */
export interface MultiItem {
  VALUE_TYPE: string;
  VALUE: string;
  ID?: string;
}

/**
 * The pseudo-field that keeps a deal's or lead's product rows in its snapshot (lib/history/product-rows.ts). Not a
 * Bitrix24 field: rows are written through crm.item.productrow.*, never with the record's update, so a change of it
 * is never offered for revert.
 */
export const PRODUCTS_FIELD = "__products__";
export const PRODUCTS_META: FieldMetaLite = { type: "crm_product_rows", isReadOnly: true };

/** The field meta's `itemName` of a lead's address fields: they come from crm.address.list, not from an item field. */
export const ADDRESS_SOURCE = "crm.address";
/** A lead's address fields, read from crm.address.list beside the item (lib/history/lead-address.ts). */
export const LEAD_ADDRESS_KEYS: readonly string[] = [
  "ADDRESS",
  "ADDRESS_2",
  "ADDRESS_CITY",
  "ADDRESS_POSTAL_CODE",
  "ADDRESS_REGION",
  "ADDRESS_PROVINCE",
  "ADDRESS_COUNTRY",
];

/** One product row as the snapshot keeps it (crm/data-types.md#crm_item_product_row, the fields a user edits). */
export interface ProductRowLite {
  id: number;
  productId: number;
  productName: string;
  price: number | null;
  quantity: number | null;
  discountRate: number | null;
  discountSum: number | null;
  taxRate: number | null;
  measure: string;
}

/**
 * The snapshot's mark of how its record was read: READ_PATH_ITEM for a lead, deal, contact or company read through
 * crm.item.* (lib/history/legacy-items.ts). A snapshot without it was taken through crm.<entity>.list, which returns
 * fewer fields: a field that only the new read returns is taken as its baseline, not recorded as "— → value".
 */
export const READ_PATH_FIELD = "__read__";
export const READ_PATH_ITEM = "item";

/**
 * Bookkeeping fields that change on every save (or call, e-mail, chat) and are not the user's edit; the last
 * communication times per channel are read-only item fields (b24restdocs crm/universal/object-fields.md#common).
 */
export const IGNORED_FIELDS = new Set([
  "ID",
  "DATE_MODIFY",
  "MODIFY_BY_ID",
  "DATE_CREATE",
  "CREATED_BY_ID",
  "MOVED_TIME",
  "MOVED_BY_ID",
  "LAST_ACTIVITY_TIME",
  "LAST_ACTIVITY_BY",
  "LAST_COMMUNICATION_TIME",
  "LAST_COMMUNICATION_CALL_TIME",
  "LAST_COMMUNICATION_EMAIL_TIME",
  "LAST_COMMUNICATION_IMOL_TIME",
  "LAST_COMMUNICATION_WEBFORM_TIME",
  READ_PATH_FIELD,
]);

const isEmpty = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);

/** Form/JSON give arrays as arrays or as objects with numeric keys. */
export function asList(v: unknown): unknown[] {
  if (v === null || v === undefined || v === "") return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "object" && Object.keys(v as object).every((k) => /^\d+$/.test(k)))
    return Object.values(v as object);
  return [v];
}

function scalar(type: string, v: unknown): unknown {
  if (isEmpty(v)) return null;
  switch (type) {
    case "integer":
    case "double":
    case "user":
    case "employee": {
      const n = Number(String(v).replace(",", "."));
      return Number.isFinite(n) ? n : String(v);
    }
    case "money": {
      const [amount, currency] = String(v).split("|");
      const n = Number(amount);
      return Number.isFinite(n) ? `${n}|${currency ?? ""}` : String(v);
    }
    case "boolean":
    case "char":
      return ["Y", "1", "true", "TRUE"].includes(String(v))
        ? true
        : ["N", "0", "false", "FALSE"].includes(String(v))
          ? false
          : String(v);
    case "date":
      return String(v).slice(0, 10);
    case "datetime": {
      const t = Date.parse(String(v));
      return Number.isNaN(t) ? String(v) : new Date(t).toISOString();
    }
    case "file":
      return typeof v === "object"
        ? String((v as Record<string, unknown>).id ?? (v as Record<string, unknown>).ID ?? JSON.stringify(v))
        : String(v);
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

function multiItem(v: unknown): MultiItem | null {
  if (typeof v === "string") {
    // the stored form of older changes: "VALUE_TYPE:VALUE" (a type holds no colon)
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
  const items = asList(v)
    .map(multiItem)
    .filter((x): x is MultiItem => x !== null);
  return items.sort((a, b) => multiKey(a).localeCompare(multiKey(b)) || (a.ID ?? "").localeCompare(b.ID ?? ""));
}

/** Two normalised values of a field say the same: multiple fields compare their items' types and values only. */
export function sameValue(meta: FieldMetaLite | undefined, a: unknown, b: unknown): boolean {
  if (meta?.type === "crm_multifield") {
    return JSON.stringify(multiItems(a).map(multiKey)) === JSON.stringify(multiItems(b).map(multiKey));
  }
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface MultiDiff {
  added: MultiItem[];
  removed: MultiItem[];
  changed: { from: MultiItem; to: MultiItem }[];
}

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

const rowNumber = (v: unknown) => (isEmpty(v) ? null : Number(v));

/** Product rows in id order, keys in one order and numbers as numbers ("10.00" and 10 are one price); none is null. */
export function productRows(v: unknown): ProductRowLite[] | null {
  const rows = asList(v)
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object")
    .map((r) => liteRow(r, r.measure));
  return rows.length ? rows.sort((a, b) => a.id - b.id) : null;
}

/**
 * A product row as the snapshot keeps it: what a user changes on the card (computed prices and totals left out).
 * `measure` is the unit's name: `measureName` in Bitrix24's rows (lib/history/product-rows.ts), `measure` once stored.
 */
export function liteRow(r: Record<string, unknown>, measure: unknown): ProductRowLite {
  return {
    id: Number(r.id),
    productId: Number(r.productId ?? 0),
    productName: String(r.productName ?? ""),
    price: rowNumber(r.price),
    quantity: rowNumber(r.quantity),
    discountRate: rowNumber(r.discountRate),
    discountSum: rowNumber(r.discountSum),
    taxRate: rowNumber(r.taxRate),
    measure: String(measure ?? ""),
  };
}

/** What a user sees change in a row; its id aside. */
export const ROW_FIELDS = [
  "productName",
  "productId",
  "quantity",
  "price",
  "discountRate",
  "discountSum",
  "taxRate",
  "measure",
] as const;
export interface ProductRowsDiff {
  added: ProductRowLite[];
  removed: ProductRowLite[];
  changed: { from: ProductRowLite; to: ProductRowLite; fields: (typeof ROW_FIELDS)[number][] }[];
}

/** Rows paired by id: present on one side only were added or removed, on both with other values were changed. */
export function diffProductRows(before: unknown, after: unknown): ProductRowsDiff {
  const old = productRows(before) ?? [];
  const now = productRows(after) ?? [];
  const out: ProductRowsDiff = { added: now.filter((r) => !old.some((o) => o.id === r.id)), removed: [], changed: [] };
  for (const from of old) {
    const to = now.find((r) => r.id === from.id);
    if (!to) {
      out.removed.push(from);
      continue;
    }
    const fields = ROW_FIELDS.filter((k) => from[k] !== to[k]);
    if (fields.length) out.changed.push({ from, to, fields });
  }
  return out;
}

/** The normalised value of a field, comparable with sameValue. */
export function normalise(meta: FieldMetaLite | undefined, v: unknown): unknown {
  const type = meta?.type ?? "string";
  if (type === "crm_product_rows") return productRows(v);
  if (type === "crm_multifield") {
    const items = multiItems(v);
    return items.length ? items : null;
  }
  if (meta?.isMultiple) {
    const items = asList(v)
      .map((x) => scalar(type, x))
      .filter((x) => x !== null);
    // Multiple values are sets in Bitrix24: their order carries no meaning.
    return items.length ? [...items].sort((a, b) => String(a).localeCompare(String(b))) : null;
  }
  return scalar(type, v);
}

export function diffRecords(
  meta: Record<string, FieldMetaLite>,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): FieldDiff[] {
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: FieldDiff[] = [];
  for (const field of [...fields].sort()) {
    if (IGNORED_FIELDS.has(field)) continue;
    if (!(field in after)) continue; // a field missing from the fetched record was not selected, not cleared
    // Rows missing from the snapshot were not read then (a snapshot older than product rows): this read is their
    // baseline, not an edit that added every row.
    if (field === PRODUCTS_FIELD && !(field in before)) continue;
    // Likewise a lead's address, read beside the item since lib/history/lead-address.ts: a snapshot without it was
    // taken before, and this read is its baseline.
    if (LEAD_ADDRESS_KEYS.includes(field) && !(field in before)) continue;
    // A field the old read path never returned: this first read through crm.item.* is its baseline (decision 015).
    if (!(field in before) && before[READ_PATH_FIELD] !== after[READ_PATH_FIELD]) continue;
    const m = field === PRODUCTS_FIELD ? PRODUCTS_META : meta[field];
    const oldValue = normalise(m, before[field]);
    const newValue = normalise(m, after[field]);
    if (!sameValue(m, oldValue, newValue)) out.push({ field, oldValue, newValue });
  }
  return out;
}
