import type { CrmRecord, FieldDef, PortalState } from "./types";

// Multiple fields (PHONE, EMAIL, WEB, IM: type crm_multifield) as crm.<entity>.add/update write them
// (b24restdocs crm/contacts/crm-contact-update.md "Working with Multiple Fields", crm/data-types.md#crm_multifield):
// an update names only the items it touches — an item with an ID overwrites that item's VALUE/VALUE_TYPE, an item
// with an ID and an empty VALUE, DELETE=Y or no VALUE at all deletes it, an item without an ID is added; items not
// named stay. Every stored item has its own ID (unique across the portal) and the TYPE_ID of its field.

type Item = Record<string, unknown>;

const nextItemId = new WeakMap<PortalState, number>();

/** The portal's next multifield item ID: one sequence, started past every seeded item. */
function newItemId(portal: PortalState): string {
  let next = nextItemId.get(portal);
  if (next === undefined) {
    next = 1;
    for (const store of Object.values(portal.crm)) {
      for (const rec of store.values()) {
        for (const v of Object.values(rec)) {
          if (Array.isArray(v)) for (const x of v) next = Math.max(next, Number((x as Item)?.ID) + 1 || 0);
        }
      }
    }
  }
  nextItemId.set(portal, next + 1);
  return String(next);
}

/** A form body gives arrays as {"0": …}; JSON as arrays. */
const items = (v: unknown): Item[] =>
  (Array.isArray(v) ? v : v && typeof v === "object" ? Object.values(v) : []).filter(
    (x): x is Item => !!x && typeof x === "object",
  );

const isDelete = (x: Item) => x.DELETE === "Y" || x.VALUE === undefined || x.VALUE === null || String(x.VALUE) === "";

/** Applies the multiple fields of an add (prev null) or update; other fields pass through unchanged. */
export function writeMultifields(
  portal: PortalState,
  defs: Record<string, FieldDef>,
  prev: CrmRecord | null,
  fields: CrmRecord,
): CrmRecord {
  const out: CrmRecord = { ...fields };
  for (const [code, value] of Object.entries(fields)) {
    if (defs[code]?.type !== "crm_multifield") continue;
    const kept = items(prev?.[code]).map((x) => ({ ...x }));
    for (const change of items(value)) {
      const id = change.ID === undefined || change.ID === null || change.ID === "" ? null : String(change.ID);
      const i = id === null ? -1 : kept.findIndex((x) => String(x.ID) === id);
      if (id !== null && i < 0) continue; // not an item of this record: nothing to overwrite or delete
      if (i >= 0 && isDelete(change)) kept.splice(i, 1);
      else if (i >= 0) {
        const VALUE_TYPE = String(change.VALUE_TYPE ?? kept[i]!.VALUE_TYPE);
        kept[i] = { ...kept[i], VALUE: String(change.VALUE), VALUE_TYPE };
      } else if (!isDelete(change)) {
        const VALUE_TYPE = String(change.VALUE_TYPE ?? "");
        kept.push({ ID: newItemId(portal), VALUE_TYPE, VALUE: String(change.VALUE), TYPE_ID: code });
      }
    }
    out[code] = kept;
  }
  return out;
}
