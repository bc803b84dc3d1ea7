// Leads (1), deals (2), contacts (3) and companies (4) are read through crm.item.* like every other type, but their
// history keeps the legacy UPPER_CASE key of each field — the key every snapshot and change of theirs has held since
// the first install (decision 015). This module is the translation at the read boundary, pure and unit-tested:
//
// - a field's key is its `upperName` from crm.item.fields (b24restdocs api-reference/crm/universal/crm-item-fields.md),
//   except where the item renames a legacy field (ITEM_RENAMES, below); custom fields are asked for with
//   useOriginalUfNames "Y" and arrive under their UF_CRM_… names (crm-item-list.md, parameter `useOriginalUfNames`);
// - `fm`, one array of every multifield (object-fields.md#fm: `{id, typeId, valueType, value}`), becomes the legacy
//   PHONE / EMAIL / WEB / IM / LINK lists of `{ID, VALUE_TYPE, VALUE, TYPE_ID}` the diff already compares;
// - a name crm.item.fields does not list is "Response only" (object-fields.md#access: `phone`, `email`, `isWon`,
//   `dateModifyShort`, `searchContent`, …), derived from other fields: dropped, so it never reads as an edit.
// Values keep the item's spelling (`1002` for "1002.00", `"Y"` for "1"): the diff normalises by field type.
import type { FieldMetaLite } from "@/lib/history/diff";
import { ADDRESS_SOURCE, LEAD_ADDRESS_KEYS, READ_PATH_FIELD, READ_PATH_ITEM } from "@/lib/history/diff";
import type { LegacyEntityType } from "@/lib/history/entity-types";

type Item = Record<string, unknown>;

/** A legacy type's field as the app keeps it: the legacy key, with the name crm.item.* gives that field. */
export type LegacyFieldMeta = FieldMetaLite & { itemName?: string; upperName?: string; title?: string };

/**
 * Item names whose `upperName` is not the legacy key (b24restdocs api-reference/crm/universal/object-fields.md, common
 * fields and lead fields; the legacy keys in crm/deals/crm-deal-fields.md, crm/leads/crm-lead-fields.md): the
 * bookkeeping fields were renamed for every type, and a lead's status is the item's stage
 * ("`stageId` is named `STATUS_ID` or `STAGE_ID` there", object-fields.md).
 */
export const ITEM_RENAMES: Record<"common" | LegacyEntityType, Record<string, string>> = {
  common: {
    createdBy: "CREATED_BY_ID",
    updatedBy: "MODIFY_BY_ID",
    createdTime: "DATE_CREATE",
    updatedTime: "DATE_MODIFY",
    movedBy: "MOVED_BY_ID",
  },
  lead: { stageId: "STATUS_ID", stageSemanticId: "STATUS_SEMANTIC_ID" },
  deal: {},
  contact: {},
  company: {},
};

/** The multifield types `fm` carries (crm/data-types.md#crm_multifield), each a legacy field of its own. */
export const MULTIFIELD_KEYS = ["PHONE", "EMAIL", "WEB", "IM", "LINK"] as const;
/** crm.item.fields lists `fm` for leads, contacts and companies only (object-fields.md: deals have no `fm`). */
const HAS_FM: ReadonlySet<LegacyEntityType> = new Set(["lead", "contact", "company"]);

/** The legacy key of an item field. */
export function legacyKeyOf(entity: LegacyEntityType, itemName: string, upperName?: string): string {
  return ITEM_RENAMES[entity][itemName] ?? ITEM_RENAMES.common[itemName] ?? upperName ?? itemName;
}

/**
 * crm.item.fields of a legacy type re-keyed by legacy key. `fm` becomes one crm_multifield entry per multifield type,
 * labelled by `labels` (crm.item.fields names only `fm` itself); a lead gets its address's ADDRESS_* keys, read from
 * crm.address.list (lib/history/lead-address.ts) and labelled by `labels` too.
 */
export function legacyFieldMeta(
  entity: LegacyEntityType,
  itemFields: Record<string, LegacyFieldMeta>,
  labels: Record<string, string>,
): Record<string, LegacyFieldMeta> {
  const out: Record<string, LegacyFieldMeta> = {};
  for (const [name, meta] of Object.entries(itemFields)) {
    if (name === "fm") continue;
    out[legacyKeyOf(entity, name, meta.upperName)] = { ...meta, itemName: name };
  }
  if (HAS_FM.has(entity)) {
    for (const key of MULTIFIELD_KEYS) {
      out[key] = { type: "crm_multifield", isMultiple: true, title: labels[key] ?? key, itemName: "fm" };
    }
  }
  if (entity === "lead") {
    for (const key of LEAD_ADDRESS_KEYS) {
      out[key] = { type: "string", isMultiple: false, title: labels[key] ?? key, itemName: ADDRESS_SOURCE };
    }
  }
  return out;
}

/** item name → legacy key, from meta built by legacyFieldMeta. */
export function keyMapOf(meta: Record<string, LegacyFieldMeta>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, m] of Object.entries(meta)) {
    if (m.itemName && m.itemName !== "fm" && m.itemName !== ADDRESS_SOURCE) out.set(m.itemName, key);
  }
  return out;
}

/** `fm` as the legacy lists: one per type, `[]` for a type without values (the record has none). */
export function multifieldsOf(fm: unknown): Record<string, Item[]> {
  const out: Record<string, Item[]> = Object.fromEntries(MULTIFIELD_KEYS.map((k) => [k, [] as Item[]]));
  for (const v of Array.isArray(fm) ? (fm as Item[]) : []) {
    const type = String(v?.typeId ?? "");
    if (!(type in out)) continue;
    out[type]!.push({
      ID: String(v.id),
      VALUE_TYPE: String(v.valueType ?? ""),
      VALUE: String(v.value ?? ""),
      TYPE_ID: type,
    });
  }
  return out;
}

/**
 * One item of a legacy type as the record the snapshots keep: legacy keys, multifields from `fm`, response-only
 * names dropped, and the read path marked (READ_PATH_FIELD: the first read through crm.item.* takes fields the old
 * read never returned as their baseline, lib/history/diff.ts).
 */
export function legacyRecordOf(item: Item, keyMap: Map<string, string>): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) {
    const key = keyMap.get(name);
    if (key) out[key] = value;
  }
  if ("fm" in item) Object.assign(out, multifieldsOf(item.fm));
  out.ID = Number(item.id);
  out[READ_PATH_FIELD] = READ_PATH_ITEM;
  return out;
}
