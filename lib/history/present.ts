import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import {
  ADDRESS_SOURCE,
  diffMultiItems,
  diffProductRows,
  multiItems,
  PRODUCTS_FIELD,
  productRows,
  type MultiItem,
  type ProductRowLite,
} from "@/lib/history/diff";
import { refreshFieldMeta, type ValueItem } from "@/lib/history/fields";
import { formatChange, formatInstant, type ValuePart } from "@/lib/history/format";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { rawValue, valueContext } from "@/lib/history/value-context";
import { dict, multifieldLabelsOf, type Dict, type TextKey } from "@/lib/i18n";
import { log } from "@/lib/log";

// Turns stored changes into what a CRM user reads: the portal's field label (UF_* included), the user's name, values
// as text (enumerations, stages, statuses and funnels by their name in the portal's language, multiple values
// joined, record-level changes in the user's language), times in the user's time zone.
interface FieldMeta {
  type?: string;
  title?: string;
  formLabel?: string;
  listLabel?: string;
  isReadOnly?: boolean;
  itemName?: string;
  isImmutable?: boolean;
  items?: ValueItem[];
  settings?: Record<string, unknown>;
}

export interface HistoryRow {
  id: string;
  changedAt: string;
  changedAtIso: string;
  field: string;
  fieldCode: string;
  who: string;
  /** the values as text (the CSV's columns, a screen reader's reading) */
  oldValue: string;
  newValue: string;
  /** the same values for the page when they carry more than text: a long text's marked words, a file's link */
  oldParts?: ValuePart[];
  newParts?: ValuePart[];
  /** the values as stored (the CSV's machine-readable columns) */
  oldRaw: string;
  newRaw: string;
  revertible: boolean;
  /** a later revert undid it (lib/history/feedback.ts); set by the tab's view */
  reverted?: boolean;
  /** where it was learnt: "event", "backfill", "reconciled", "revert", "stagehistory" (the tab's change sets) */
  source: string;
  /** a merged change (docs/history.md "Merged edits"): when the interval its edits fall in began; null: one edit */
  mergedFrom: string | null;
  mergedFromIso: string | null;
}

export interface ChangeToPresent {
  id: bigint;
  /** the record's id: an amount is shown in the currency our latest snapshot of the record names */
  entityId?: number;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  changedById: number | null;
  changedAt: Date;
  /** set when one read stood for what may be several edits, made after this instant (lib/history/merged.ts) */
  mergedFrom?: Date | null;
  /** when we recorded it: a code unknown to labels read before that is new to the portal, not deleted from it */
  createdAt?: Date;
  /** where it was learnt: "stagehistory" is a move Bitrix24 recorded before the app was installed (stage-history.ts) */
  source?: string;
}

/** The user's IANA time zone (`tz`): checked with the placements' query (lib/history/view-query.ts). */
export { TimeZoneSchema } from "@/lib/history/view-query";

export function valueText(v: unknown, meta?: FieldMeta): string {
  if (v === null || v === undefined || v === "") return "—";
  if (Array.isArray(v)) return v.map((x) => valueText(x, meta)).join(", ");
  const o = v as Record<string, unknown>;
  if (typeof v === "object" && o.VALUE_TYPE !== undefined) return `${String(o.VALUE)} (${String(o.VALUE_TYPE)})`;
  if (typeof v === "object") return String(o.VALUE ?? o.name ?? JSON.stringify(v));
  const item = meta?.items?.find((i) => i.ID === String(v));
  return item ? item.VALUE : String(v);
}

/** Items as stored since they are diffed one by one; older changes hold "TYPE:VALUE" strings, shown as they were. */
const isItemList = (v: unknown) =>
  v === null || v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "object"));

/**
 * A multiple field's change (PHONE, EMAIL, WEB, IM): the items before, and what happened to them one by one —
 * "phone +49 30 1 → +49 30 2 (WORK)", "+ phone +49 30 1234 (WORK)", "− e-mail a@b.de (HOME)".
 */
export function multifieldText(label: string, before: unknown, after: unknown): { oldValue: string; newValue: string } {
  const { added, removed, changed } = diffMultiItems(before, after);
  const item = (i: MultiItem) => `${i.VALUE} (${i.VALUE_TYPE})`;
  const lines = [
    ...changed.map(({ from, to }) =>
      from.VALUE_TYPE === to.VALUE_TYPE
        ? `${label} ${from.VALUE} → ${to.VALUE} (${to.VALUE_TYPE})`
        : `${label} ${item(from)} → ${item(to)}`,
    ),
    ...added.map((i) => `+ ${label} ${item(i)}`),
    ...removed.map((i) => `− ${label} ${item(i)}`),
  ];
  const list = (v: unknown) => valueText(multiItems(v).length ? multiItems(v) : null);
  return { oldValue: list(before), newValue: lines.length ? lines.join("; ") : list(after) };
}

const money = (n: number | null) => (n === null ? "—" : n.toFixed(2));
const amount = (n: number | null) => (n === null ? "—" : String(n));
const rowName = (r: ProductRowLite) => r.productName || `#${r.productId}`;

/** One row's edited values, "quantity 2 → 5, price 10.00 → 12.00", in the user's language. */
function rowEdits(t: Dict, from: ProductRowLite, to: ProductRowLite, fields: (keyof ProductRowLite)[]): string {
  const parts: string[] = [];
  const add = (label: string, a: string, b: string) => parts.push(`${label} ${a} → ${b}`);
  if (fields.includes("productName") || fields.includes("productId")) add(t.productProduct, rowName(from), rowName(to));
  if (fields.includes("quantity")) add(t.productQuantity, amount(from.quantity), amount(to.quantity));
  if (fields.includes("price")) add(t.productPrice, money(from.price), money(to.price));
  const pct = (n: number | null) => (n === null ? "—" : `${n}%`);
  if (fields.includes("discountRate")) add(t.productDiscount, pct(from.discountRate), pct(to.discountRate));
  else if (fields.includes("discountSum")) add(t.productDiscount, money(from.discountSum), money(to.discountSum));
  if (fields.includes("taxRate")) add(t.productTax, pct(from.taxRate), pct(to.taxRate));
  if (fields.includes("measure")) add(t.productUnit, from.measure || "—", to.measure || "—");
  return parts.join(", ");
}

/**
 * A change of a deal's or lead's product rows, row by row: the rows before, and "Widget: quantity 2 → 5",
 * "+ Gadget × 1 at 10.00", "− Service".
 */
export function productRowsText(t: Dict, before: unknown, after: unknown): { oldValue: string; newValue: string } {
  const line = (r: ProductRowLite) =>
    t.productLine
      .replace("{name}", rowName(r))
      .replace("{quantity}", amount(r.quantity))
      .replace("{price}", money(r.price));
  const { added, removed, changed } = diffProductRows(before, after);
  const lines = [
    ...changed.map(({ from, to, fields }) => `${rowName(from)}: ${rowEdits(t, from, to, fields)}`),
    ...added.map((r) => `+ ${line(r)}`),
    ...removed.map((r) => `− ${rowName(r)}`),
  ];
  const list = (v: unknown) => productRows(v)?.map(line).join("; ") ?? "—";
  return { oldValue: list(before), newValue: lines.length ? lines.join("; ") : list(after) };
}

/** Fields whose values are codes named by a portal directory (crm.status.list, crm.category.list). */
const DIRECTORY_TYPES = new Set(["crm_status", "crm_category"]);

/** Labels of one entity's fields and of the given users, read once for a page of rows or a filter list. */
export async function loadLabels(portalId: string, entityType: string, userIds: (number | null)[], t: Dict) {
  const db = getDb();
  const ids = [...new Set(userIds.filter((x): x is number => x !== null))];
  const [meta, users] = await Promise.all([
    db.crmFieldMeta.findUnique({ where: { portalId_entityType: { portalId, entityType } } }),
    ids.length ? db.userNameCache.findMany({ where: { portalId, userId: { in: ids } } }) : [],
  ]);
  const fields = (meta?.fields ?? {}) as Record<string, FieldMeta>;
  const names = new Map(users.map((u) => [u.userId, u.name]));
  // PHONE, EMAIL… of a legacy type read through crm.item.* (one `fm` there) and a lead's address (crm.address.list):
  // labelled in the user's language here
  const multi = multifieldLabelsOf(t);
  const label = (f: string) =>
    (fields[f]?.itemName === "fm" || fields[f]?.itemName === ADDRESS_SOURCE ? multi[f] : undefined) ??
    fields[f]?.formLabel ??
    fields[f]?.listLabel ??
    fields[f]?.title ??
    f;
  return {
    fetchedAt: meta?.fetchedAt ?? null,
    meta: (field: string): FieldMeta | undefined => fields[field],
    field: (field: string) =>
      field === RECORD_FIELD ? t.recordField : field === PRODUCTS_FIELD ? t.productsField : label(field),
    user: (id: number | null) => (id ? (names.get(id) ?? `#${id}`) : "—"),
  };
}

type Labels = Awaited<ReturnType<typeof loadLabels>>;

/** A stage, status or funnel code these labels cannot name, in a change recorded after they were read. */
function hasNewCode(labels: Labels, changes: ChangeToPresent[]): boolean {
  const known = (meta: FieldMeta, v: unknown) =>
    v === null || v === undefined || v === "" || meta.items?.some((i) => i.ID === String(v));
  return changes.some((c) => {
    const meta = labels.meta(c.field);
    if (!meta?.type || !DIRECTORY_TYPES.has(meta.type)) return false;
    if (labels.fetchedAt && (c.createdAt ?? c.changedAt) <= labels.fetchedAt) return false; // deleted since: stays a code
    return !known(meta, c.oldValue) || !known(meta, c.newValue);
  });
}

/**
 * The labels, read again from the portal once when a change shows a code they lack (an admin added a stage or a
 * funnel since they were cached). A failure leaves the codes as they are: the history is still worth showing.
 */
async function labelsFor(portalId: string, entityType: string, changes: ChangeToPresent[], t: Dict): Promise<Labels> {
  const userIds = changes.map((c) => c.changedById);
  const labels = await loadLabels(portalId, entityType, userIds, t);
  if (!hasNewCode(labels, changes)) return labels;
  try {
    await refreshFieldMeta(portalId, entityType, await bitrixFor(portalId));
  } catch (error) {
    log.warn({ portalId, entityType, err: error }, "could not refresh field labels; codes are shown as they are");
    return labels;
  }
  return loadLabels(portalId, entityType, userIds, t);
}

const RECORD_STATES: Record<string, TextKey> = { created: "created", deleted: "deleted", exists: "exists" };

/** `timeZone`: the user's IANA zone (TimeZoneSchema-checked); without it times are shown in UTC, marked as such. */
export async function presentChanges(
  portalId: string,
  entityType: string,
  changes: ChangeToPresent[],
  lang: string,
  timeZone?: string,
): Promise<HistoryRow[]> {
  const t = dict(lang);
  const labels = await labelsFor(portalId, entityType, changes, t);
  const contextOf = await valueContext(portalId, entityType, changes, labels.meta, lang, timeZone);
  const state = (v: unknown) => (typeof v === "string" && RECORD_STATES[v] ? t[RECORD_STATES[v]] : String(v ?? "—"));
  const values = (c: ChangeToPresent) => {
    const meta = labels.meta(c.field);
    if (c.field === RECORD_FIELD) return { oldValue: state(c.oldValue), newValue: state(c.newValue) };
    if (c.field === PRODUCTS_FIELD) return productRowsText(t, c.oldValue, c.newValue);
    if (meta?.type !== "crm_multifield" || !isItemList(c.oldValue) || !isItemList(c.newValue)) {
      const f = formatChange(c.oldValue, c.newValue, c.field, meta, contextOf(c));
      return { oldValue: f.old.text, newValue: f.new.text, oldParts: f.old.parts, newParts: f.new.parts };
    }
    return multifieldText(labels.field(c.field).toLocaleLowerCase(lang), c.oldValue, c.newValue);
  };
  // Bitrix24's stage history names no author (crm-stage-history-list.md): the row says where it came from instead.
  const who = (c: ChangeToPresent) =>
    c.source !== "stagehistory"
      ? labels.user(c.changedById)
      : c.changedById
        ? `${labels.user(c.changedById)} (${t.fromStageHistory})`
        : t.fromStageHistory;
  return changes.map((c) => ({
    id: String(c.id),
    changedAt: formatInstant(c.changedAt, lang, timeZone),
    changedAtIso: c.changedAt.toISOString(),
    field: labels.field(c.field),
    fieldCode: c.field,
    who: who(c),
    ...values(c),
    oldRaw: rawValue(c.oldValue),
    newRaw: rawValue(c.newValue),
    revertible:
      c.field !== RECORD_FIELD &&
      c.field !== PRODUCTS_FIELD &&
      !labels.meta(c.field)?.isReadOnly &&
      !labels.meta(c.field)?.isImmutable,
    mergedFrom: c.mergedFrom ? formatInstant(c.mergedFrom, lang, timeZone) : null,
    mergedFromIso: c.mergedFrom?.toISOString() ?? null,
    source: c.source ?? "event",
  }));
}
