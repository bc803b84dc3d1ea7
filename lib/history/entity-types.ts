// The CRM types the app keeps history of, in ONE place: the key stored with every snapshot and change, Bitrix24's
// entityTypeId, the events that announce a change, the detail-tab placement and the product-row owner code.
// Every type is read through the universal crm.item.* API (b24restdocs crm/universal/index.md); deals, contacts,
// companies and leads keep their legacy keys and events (lib/history/legacy-items.ts, decision 015), quotes (7), new
// invoices (31) and smart processes (>= 128) exist only there ("item types" below).
// Their events: quotes ONCRMQUOTE{ADD,UPDATE,DELETE} with data[FIELDS][ID] (crm/quote/events/*); smart-process items
// and new invoices ONCRMDYNAMICITEM{ADD,UPDATE,DELETE} with data[FIELDS][ID] and [ENTITY_TYPE_ID]
// (crm/universal/events/on-crm-dynamic-item-update.md); a smart process's tab is CRM_DYNAMIC_<entityTypeId>_DETAIL_TAB,
// a quote's CRM_QUOTE_DETAIL_TAB, an invoice's CRM_SMART_INVOICE_DETAIL_TAB (widgets/crm/detail-tab.md); product-row
// owners Q, SI and T<hex entityTypeId> (crm/data-types.md#crm_item_product_row).

export const LEGACY_TYPES = { lead: 1, deal: 2, contact: 3, company: 4 } as const;
export type LegacyEntityType = keyof typeof LEGACY_TYPES;
export type ItemEntityType = "quote" | "smart_invoice" | `dynamic_${number}`;
export type EntityKey = LegacyEntityType | ItemEntityType;

export const QUOTE_TYPE_ID = 7;
export const SMART_INVOICE_TYPE_ID = 31;
/** Smart processes' entityTypeIds start here (crm/universal/user-defined-object-types/crm-type-add.md). */
export const FIRST_DYNAMIC_TYPE_ID = 128;

/** The four types with crm.<entity>.* methods of their own, in the app's order (Bitrix24's CRM menu's). */
export const LEGACY_ENTITIES = ["deal", "contact", "company", "lead"] as const satisfies readonly LegacyEntityType[];
/** The item types every portal has, before its smart processes. */
export const FIXED_ITEM_TYPES: ItemEntityType[] = ["quote", "smart_invoice"];
/** Every type a portal has before its smart processes, in the app's order: the legacy four, then quote, invoice. */
export const FIXED_ENTITY_TYPES: readonly EntityKey[] = [...LEGACY_ENTITIES, ...FIXED_ITEM_TYPES];

export const DYNAMIC_ITEM_EVENTS = ["ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE"];
export const QUOTE_EVENTS = ["ONCRMQUOTEADD", "ONCRMQUOTEUPDATE", "ONCRMQUOTEDELETE"];
/** A smart-process type added, renamed or deleted by an admin: data[FIELDS][ID] is the type's id, not entityTypeId. */
export const TYPE_EVENTS = ["ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE"];

/** A key of the URL, a session, a stored row: legacy names, quote, smart_invoice or dynamic_<n> with n >= 128. */
export const ENTITY_KEY_PATTERN = new RegExp(`^(?:${FIXED_ENTITY_TYPES.join("|")}|dynamic_(\\d{3,9}))$`);

export function isEntityKey(key: string): key is EntityKey {
  const m = ENTITY_KEY_PATTERN.exec(key);
  return Boolean(m) && (m![1] === undefined || Number(m![1]) >= FIRST_DYNAMIC_TYPE_ID);
}

export function isItemType(key: string): key is ItemEntityType {
  return isEntityKey(key) && !(key in LEGACY_TYPES);
}

export function entityTypeIdOf(key: string): number | undefined {
  if (key in LEGACY_TYPES) return LEGACY_TYPES[key as LegacyEntityType];
  if (key === "quote") return QUOTE_TYPE_ID;
  if (key === "smart_invoice") return SMART_INVOICE_TYPE_ID;
  const m = /^dynamic_(\d+)$/.exec(key);
  return m && Number(m[1]) >= FIRST_DYNAMIC_TYPE_ID ? Number(m[1]) : undefined;
}

export function keyOfEntityTypeId(entityTypeId: number): EntityKey | undefined {
  const legacy = Object.entries(LEGACY_TYPES).find(([, id]) => id === entityTypeId);
  if (legacy) return legacy[0] as LegacyEntityType;
  if (entityTypeId === QUOTE_TYPE_ID) return "quote";
  if (entityTypeId === SMART_INVOICE_TYPE_ID) return "smart_invoice";
  const dynamic = Number.isInteger(entityTypeId) && entityTypeId >= FIRST_DYNAMIC_TYPE_ID;
  return dynamic ? `dynamic_${entityTypeId}` : undefined;
}

/** The detail tab's placement code of a type. */
export function detailTabOf(key: EntityKey): string {
  if (key === "quote") return "CRM_QUOTE_DETAIL_TAB";
  if (key === "smart_invoice") return "CRM_SMART_INVOICE_DETAIL_TAB";
  if (key.startsWith("dynamic_")) return `CRM_DYNAMIC_${entityTypeIdOf(key)}_DETAIL_TAB`;
  return `CRM_${key.toUpperCase()}_DETAIL_TAB`;
}

/** CRM_<TYPE>_<DETAIL_TAB|DETAIL_TOOLBAR|LIST_MENU> → the type's key and the kind of placement. */
const PLACEMENT =
  /^CRM_(DEAL|CONTACT|COMPANY|LEAD|QUOTE|SMART_INVOICE|DYNAMIC_\d+)_(DETAIL_TAB|DETAIL_TOOLBAR|LIST_MENU)$/;
export function parsePlacement(code: string): { key: EntityKey; kind: string } | null {
  const m = PLACEMENT.exec(code);
  if (!m) return null;
  const key = m[1]!.toLowerCase();
  return isEntityKey(key) ? { key, kind: m[2]! } : null;
}

/** The product-row owner code (crm.item.productrow.* ownerType) of a type, if it has product rows. */
export function productRowOwnerOf(key: EntityKey): string | undefined {
  const codes: Record<string, string> = { lead: "L", deal: "D", quote: "Q", smart_invoice: "SI" };
  if (codes[key]) return codes[key];
  const id = entityTypeIdOf(key);
  return key.startsWith("dynamic_") && id ? `T${id.toString(16)}` : undefined;
}

/** The item type an event names: quotes by their event, the others by data[FIELDS][ENTITY_TYPE_ID]. */
export function itemTypeOfEvent(event: string, fields: Record<string, unknown> | undefined): ItemEntityType | null {
  if (QUOTE_EVENTS.includes(event)) return "quote";
  if (!DYNAMIC_ITEM_EVENTS.includes(event)) return null;
  const key = keyOfEntityTypeId(Number(fields?.ENTITY_TYPE_ID));
  return key && isItemType(key) ? key : null;
}

/** add | update | delete of an item or type event's name. */
export function actionOfEvent(event: string): "add" | "update" | "delete" {
  return event.endsWith("ADD") ? "add" : event.endsWith("DELETE") ? "delete" : "update";
}

/** The update events whose waiting deliveries one read of a type's records settles. */
export function updateEventsOf(key: EntityKey): string[] {
  if (key === "quote") return ["ONCRMQUOTEUPDATE"];
  if (isItemType(key)) return ["ONCRMDYNAMICITEMUPDATE"];
  const up = key.toUpperCase();
  return key === "deal" ? [`ONCRM${up}UPDATE`, `ONCRM${up}MOVETOCATEGORY`] : [`ONCRM${up}UPDATE`];
}
