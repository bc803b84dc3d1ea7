import type { FakeClock } from "./clock";
import { itemFileValue } from "./item-files";
import type { CrmRecord, Entity, FieldDef, PortalState } from "./types";

// The universal CRM methods' view of a record (crm.item.*): which entity types exist, their fields under camelCase
// names with the `upperName` crm.item.fields gives, and the conversion between an item and the stored record.
// Leads, deals, contacts and companies are the records of crm.<entity>.* (one store, two shapes); quotes (7), new
// invoices (31) and smart processes (>= 128) live only here, stored under their upper names in item values.

/** entityTypeId of the legacy entities (b24restdocs api-reference/crm/data-types.md#object_type) */
export const LEGACY_TYPE_IDS: Record<Entity, number> = { lead: 1, deal: 2, contact: 3, company: 4 };
export const LEGACY_BY_TYPE_ID: Record<number, Entity> = { 1: "lead", 2: "deal", 3: "contact", 4: "company" };
export const QUOTE = 7;
export const SMART_INVOICE = 31;

/** The short code of a type (data-types.md#object_type `entityTypeAbbr`): D, Q, SI, T80 for 128 (hex). */
export function ownerTypeAbbr(entityTypeId: number): string | null {
  const fixed: Record<number, string> = { 1: "L", 2: "D", 3: "C", 4: "CO", 7: "Q", 31: "SI" };
  return fixed[entityTypeId] ?? (entityTypeId >= 128 ? `T${entityTypeId.toString(16)}` : null);
}

export function typeIdOfAbbr(abbr: string): number | null {
  const fixed: Record<string, number> = { L: 1, D: 2, C: 3, CO: 4, Q: 7, SI: 31 };
  if (fixed[abbr] !== undefined) return fixed[abbr]!;
  const m = /^T([0-9a-f]+)$/i.exec(abbr);
  return m ? parseInt(m[1]!, 16) : null;
}

/**
 * A custom field's camelCase name (b24restdocs api-reference/crm/universal/index.md "Field Naming Conventions"):
 * "regular" when only digits or only letters follow UF_CRM_ and the object number (UF_CRM_3_DIGIT → ufCrm3Digit,
 * UF_CRM_3_1747309727 → ufCrm3_1747309727), otherwise "simplified": only the prefix changes (UF_CRM_3_DIGIT10 →
 * ufCrm_3_DIGIT10, UF_CRM_1747309879 → ufCrm_1747309879, as the docs' table has it).
 */
export function ufCamelName(upper: string): string {
  const pascal = (w: string) => w.charAt(0) + w.slice(1).toLowerCase();
  const digits = /^UF_CRM_(\d+)_(\d+)$/.exec(upper);
  if (digits) return `ufCrm${digits[1]}_${digits[2]}`;
  const letters = /^UF_CRM_(?:(\d+)_)?([A-Z]+(?:_[A-Z]+)*)$/.exec(upper);
  if (letters) return `ufCrm${letters[1] ?? ""}${letters[2]!.split("_").map(pascal).join("")}`;
  return upper.replace(/^UF_CRM_/, "ufCrm_");
}

const camel = (upper: string) => upper.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** One field of an entity type as crm.item.* names it. `key` is where the stored record keeps its value. */
export interface ItemField {
  name: string;
  upper: string;
  key: string;
  def: FieldDef;
}

/** Legacy names whose item name is not their camelCase form (object-fields.md common fields; lead STATUS_ID). */
const LEGACY_RENAMES: Record<string, [string, string]> = {
  CREATED_BY_ID: ["createdBy", "CREATED_BY"],
  MODIFY_BY_ID: ["updatedBy", "UPDATED_BY"],
  DATE_CREATE: ["createdTime", "CREATED_TIME"],
  DATE_MODIFY: ["updatedTime", "UPDATED_TIME"],
  "lead.STATUS_ID": ["stageId", "STAGE_ID"],
  CLOSEDATE: ["closedate", "CLOSEDATE"],
};
/** multifields come as `fm` (object-fields.md), not as fields of their own (crm/data-types.md#crm_multifield) */
const MULTIFIELDS = new Set(["PHONE", "EMAIL", "WEB", "IM"]);

function legacyFields(portal: PortalState, entity: Entity): ItemField[] {
  const out: ItemField[] = [];
  for (const [key, def] of Object.entries(portal.fields[entity])) {
    if (MULTIFIELDS.has(key)) continue;
    // a lead's address: crm.item.* has only `address`, "Deprecated. Field is disabled" (object-fields.md); it is read
    // through crm.address.list (methods-address.ts)
    if (entity === "lead" && key.startsWith("ADDRESS")) continue;
    const renamed = LEGACY_RENAMES[`${entity}.${key}`] ?? LEGACY_RENAMES[key];
    const [name, upper] = renamed ?? [key.startsWith("UF_") ? ufCamelName(key) : camel(key), key];
    out.push({ name, upper, key, def });
  }
  return dedupe(out);
}

/** "If the converted name is already taken by another field of the object, the field is returned in UPPER_CASE." */
function dedupe(fields: ItemField[]): ItemField[] {
  const seen = new Set<string>();
  return fields.map((f) => {
    const name = seen.has(f.name) ? f.upper : f.name;
    seen.add(name);
    return { ...f, name };
  });
}

const fd = (type: string, title: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  isRequired: false,
  isReadOnly: false,
  isImmutable: false,
  isMultiple: false,
  isDynamic: false,
  title,
  ...extra,
});
const ro = { isReadOnly: true };
const uf = (type: string, label: string, extra: Partial<FieldDef> = {}): FieldDef =>
  fd(type, label.toUpperCase(), { isDynamic: true, listLabel: label, formLabel: label, filterLabel: label, ...extra });

/** The standard fields of a quote, a new invoice or a smart process (object-fields.md #quote, #invoice, #spa). */
function standardFields(entityTypeId: number, stageType: string): Record<string, FieldDef> {
  const base: Record<string, FieldDef> = {
    ID: fd("integer", "ID", ro),
    TITLE: fd("string", "Name"),
    CREATED_BY: fd("user", "Created by", ro),
    UPDATED_BY: fd("user", "Updated by", ro),
    CREATED_TIME: fd("datetime", "Created at", ro),
    UPDATED_TIME: fd("datetime", "Updated at", ro),
    ASSIGNED_BY_ID: fd("user", "Assigned to"),
  };
  const money = { OPPORTUNITY: fd("double", "Amount"), CURRENCY_ID: fd("crm_currency", "Currency") };
  const stage = fd("crm_status", "Stage", { statusType: stageType });
  if (entityTypeId === QUOTE) {
    return {
      ...base,
      STAGE_ID: stage,
      ...money,
      DEAL_ID: fd("crm_deal", "Deal"),
      COMPANY_ID: fd("crm_company", "Company"),
      COMMENTS: fd("text", "Comment"),
      CLOSEDATE: fd("date", "Expiration date"),
    };
  }
  const pipeline = {
    CATEGORY_ID: fd("crm_category", "Pipeline"),
    STAGE_ID: stage,
    PREVIOUS_STAGE_ID: fd("crm_status", "Previous stage", { ...ro, statusType: stageType }),
    MOVED_BY: fd("user", "Moved by", ro),
    MOVED_TIME: fd("datetime", "Moved at", ro),
  };
  const dates = { BEGINDATE: fd("date", "Start date"), CLOSEDATE: fd("date", "End date") };
  if (entityTypeId === SMART_INVOICE) {
    return {
      ...base,
      ...pipeline,
      ...dates,
      ...money,
      COMPANY_ID: fd("crm_company", "Company"),
      ACCOUNT_NUMBER: fd("string", "Invoice #"),
      COMMENTS: fd("text", "Comment"),
    };
  }
  return { ...base, ...pipeline, ...dates, ...money, COMPANY_ID: fd("crm_company", "Company") };
}

/**
 * Custom fields the fake's smart-process types have: one per conversion rule of ufCamelName, and a multiple file field
 * ("the file fields of CRM items are of the 'file' type", b24restdocs api-reference/files/how-to-update-files.md).
 */
export function seededCustomFields(entityTypeId: number, typeId: number): Record<string, FieldDef> {
  if (entityTypeId === SMART_INVOICE) return { UF_CRM_SMART_INVOICE_1700000001: uf("string", "PO number") };
  if (entityTypeId === 128) {
    return {
      [`UF_CRM_${typeId}_1700000000`]: uf("string", "Project code"),
      [`UF_CRM_${typeId}_BUDGET`]: uf("double", "Budget"),
      [`UF_CRM_${typeId}_PHASE2`]: uf("boolean", "Phase 2"),
      [`UF_CRM_${typeId}_FILES`]: uf("file", "Attachments", { isMultiple: true }),
    };
  }
  return {};
}

export function newTypeFields(entityTypeId: number, stageType: string, custom: Record<string, FieldDef> = {}) {
  return { ...standardFields(entityTypeId, stageType), ...custom };
}

/** The fields of an entity type in crm.item.fields order, or null for a type the portal does not have. */
export function itemFields(portal: PortalState, entityTypeId: number): ItemField[] | null {
  const legacy = LEGACY_BY_TYPE_ID[entityTypeId];
  if (legacy) return legacyFields(portal, legacy);
  const store = portal.items.stores.get(entityTypeId);
  if (!store) return null;
  return dedupe(
    Object.entries(store.fields).map(([key, def]) => ({
      name: key.startsWith("UF_") ? ufCamelName(key) : camel(key),
      upper: key,
      key,
      def,
    })),
  );
}

const NUMERIC = new Set(["integer", "user", "crm_contact", "crm_company", "crm_deal", "crm_category", "double"]);

/** A stored legacy value as crm.item answers it: numbers for ids and amounts, Y/N, dates at local midnight. */
function legacyToItem(value: unknown, f: ItemField, clock: FakeClock): unknown {
  if (value === undefined) return null;
  if (f.def.isDynamic) {
    // crm.item.list: boolean custom fields are "Y" / "N" when read or written (filtered as 1 / 0)
    if (f.def.type === "boolean") return value === "1" || value === "Y" || value === true ? "Y" : "N";
    return value;
  }
  if (NUMERIC.has(f.def.type))
    return value === null || value === "" ? (f.def.type === "double" ? null : 0) : Number(value);
  if (f.def.type === "date" && typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value))
    return `${value}T00:00:00${clock.iso().slice(19)}`;
  return value;
}

function itemToLegacy(value: unknown, f: ItemField): unknown {
  if (value === null || value === undefined) return "";
  if (f.def.isDynamic && f.def.type === "boolean")
    return ["Y", "1", "true", true, 1].includes(value as string) ? "1" : "0";
  if (f.def.type === "date") return String(value).slice(0, 10);
  if (f.key === "OPPORTUNITY") return Number(value).toFixed(2);
  return Array.isArray(value) ? value.map(String) : typeof value === "object" ? value : String(value);
}

/** fm: a lead's, contact's or company's multifields (object-fields.md `fm`: id, typeId, valueType, value). */
function multifields(rec: CrmRecord) {
  return [...MULTIFIELDS].flatMap((k) =>
    ((rec[k] ?? []) as Record<string, unknown>[]).map((m) => ({
      id: Number(m.ID),
      valueType: m.VALUE_TYPE,
      value: m.VALUE,
      typeId: m.TYPE_ID,
    })),
  );
}

/**
 * Every field of a record as crm.item.get answers it (`useOriginalUfNames`: custom fields under UF_CRM_…); a file
 * field as {id, url, urlMachine} with the caller's `auth` in urlMachine (item-files.ts).
 */
export function toItem(
  portal: PortalState,
  clock: FakeClock,
  entityTypeId: number,
  rec: CrmRecord,
  originalUf = false,
  fields: ItemField[] | null = itemFields(portal, entityTypeId),
  auth = "",
) {
  const legacy = LEGACY_BY_TYPE_ID[entityTypeId] !== undefined;
  const out: Record<string, unknown> = {};
  for (const f of fields ?? []) {
    const name = originalUf && f.def.isDynamic ? f.upper : f.name;
    out[name] =
      f.def.type === "file"
        ? itemFileValue(portal.baseUrl, auth, entityTypeId, rec.ID, f, rec[f.key])
        : legacy
          ? legacyToItem(rec[f.key], f, clock)
          : (rec[f.key] ?? null);
  }
  if (legacy && entityTypeId !== 2) out.fm = multifields(rec);
  if (legacy) Object.assign(out, derivedFields(entityTypeId, rec));
  out.entityTypeId = entityTypeId;
  return out;
}

/**
 * "Response only" fields of a lead, deal, contact or company: they arrive in crm.item.get/list but crm.item.fields
 * does not list them (b24restdocs api-reference/crm/universal/object-fields.md#access) — copies derived from other
 * fields (`phone` is the first phone of `fm`, `isWon` follows the stage, `dateModifyShort` the modification time).
 */
function derivedFields(entityTypeId: number, rec: CrmRecord): Record<string, unknown> {
  const first = (k: string) => (((rec[k] ?? []) as Record<string, unknown>[])[0]?.VALUE as string | undefined) ?? null;
  const out: Record<string, unknown> = {
    dateModifyShort: rec.DATE_MODIFY ?? null,
    searchContent: [rec.TITLE, rec.NAME, rec.LAST_NAME].filter(Boolean).join(" "),
  };
  if (entityTypeId === 2) {
    out.isWon = /(^|:)WON$/.test(String(rec.STAGE_ID ?? "")) ? "Y" : "N";
    out.isLose = /(^|:)LOSE$/.test(String(rec.STAGE_ID ?? "")) ? "Y" : "N";
  } else {
    out.phone = first("PHONE");
    out.email = first("EMAIL");
  }
  return out;
}

/** crm.item.fields' `fm` of a lead, contact or company (object-fields.md: `fm`, `crm_multifield`, read and write). */
export const FM_FIELD: FieldDef = {
  type: "crm_multifield",
  isRequired: false,
  isReadOnly: false,
  isImmutable: false,
  isMultiple: true,
  isDynamic: false,
  title: "Multifields",
};

/**
 * Item fields given to add/update (camelCase or UPPER_CASE, "any field names in all methods can be passed in either",
 * universal/index.md) as the stored record's keys and values. Read-only and unknown fields are dropped, as core does.
 * File values are stored as given: crm.item.add/update turn them into stored files first (item-files.ts).
 */
export function fromItemFields(portal: PortalState, entityTypeId: number, input: Record<string, unknown>): CrmRecord {
  const fields = itemFields(portal, entityTypeId) ?? [];
  const legacy = LEGACY_BY_TYPE_ID[entityTypeId] !== undefined;
  const out: CrmRecord = {};
  for (const [k, v] of Object.entries(input)) {
    const f = fields.find((x) => x.name === k || x.upper === k || x.key === k);
    if (!f || f.def.isReadOnly) continue;
    out[f.key] = f.def.type === "file" ? (v ?? null) : legacy ? itemToLegacy(v, f) : itemValue(v, f);
  }
  return out;
}

function itemValue(value: unknown, f: ItemField): unknown {
  if (value === null || value === undefined || value === "") return NUMERIC.has(f.def.type) ? null : (value ?? null);
  if (NUMERIC.has(f.def.type)) return Number(value);
  if (f.def.type === "boolean") return ["Y", "1", "true", true, 1].includes(value as string) ? "Y" : "N";
  return value;
}

/** The field behind a filter/order/select key (camelCase or UPPER_CASE). */
export function fieldByName(fields: ItemField[], name: string): ItemField | undefined {
  return fields.find((f) => f.name === name || f.upper === name || f.key === name);
}

export { camel as camelName };
