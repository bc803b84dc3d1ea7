import type { CrmRecord, Entity, FieldDef, FakeUser } from "./types";

// Deterministic CRM content (seeded PRNG) with UF_* fields of the types Bitrix24 portals commonly have.

export function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f = (type: string, title: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  isRequired: false,
  isReadOnly: false,
  isImmutable: false,
  isMultiple: false,
  isDynamic: false,
  title,
  ...extra,
});
const uf = (type: string, label: string, extra: Partial<FieldDef> = {}): FieldDef =>
  f(type, label.toUpperCase(), { isDynamic: true, listLabel: label, formLabel: label, filterLabel: label, ...extra });
const ro = { isReadOnly: true };
/**
 * A directory field (stage, status, source, industry...) as crm.<entity>.fields describes it: type crm_status with
 * the directory's `statusType` and NO `items` (b24restdocs crm/deals/crm-deal-fields.md: `"type": "crm_status",
 * "statusType": "DEAL_STAGE"`); the values' names come from crm.status.list (methods-status.ts).
 */
const status = (title: string, statusType: string) => f("crm_status", title, { statusType });

const COMMON: Record<string, FieldDef> = {
  ID: f("integer", "ID", ro),
  ASSIGNED_BY_ID: f("user", "Responsible"),
  CREATED_BY_ID: f("user", "Created by", ro),
  MODIFY_BY_ID: f("user", "Modified by", ro),
  DATE_CREATE: f("datetime", "Created", ro),
  DATE_MODIFY: f("datetime", "Modified", ro),
  COMMENTS: f("string", "Comment"),
};

export const UF_FIELDS: Record<string, FieldDef> = {
  UF_CRM_TEXT: uf("string", "Note"),
  UF_CRM_AMOUNT: uf("double", "Score"),
  UF_CRM_BUDGET: uf("money", "Budget"),
  UF_CRM_DUE: uf("date", "Due date"),
  UF_CRM_MEETING: uf("datetime", "Meeting at"),
  UF_CRM_VIP: uf("boolean", "VIP"),
  UF_CRM_SOURCE: uf("enumeration", "Lead channel", {
    items: [
      { ID: "41", VALUE: "Website" },
      { ID: "42", VALUE: "Partner" },
      { ID: "43", VALUE: "Fair" },
    ],
  }),
  UF_CRM_TAGS: uf("string", "Tags", { isMultiple: true }),
  UF_CRM_CONTRACT: uf("file", "Contract"),
  UF_CRM_PARTNER: uf("crm", "Partner company", { settings: { COMPANY: "Y" } }),
  UF_CRM_CURATOR: uf("employee", "Curator"),
  // a multiple file field: "There are no 'file (Drive)' type fields in the CRM: the file fields of CRM items are of the
  // 'file' type" (b24restdocs api-reference/files/how-to-update-files.md)
  UF_CRM_DOCS: uf("file", "Documents", { isMultiple: true }),
};

const STAGES = [{ ID: "NEW" }, { ID: "PREPARATION" }, { ID: "WON" }, { ID: "LOSE" }];
/** Every deal of funnel 1 (id divisible by 10) has its stage there: `C1:<stage>` (ENTITY_ID DEAL_STAGE_1). */
export const FUNNEL_1_EVERY = 10;
const MULTI = { isMultiple: true, type: "crm_multifield" };
/**
 * "In leads, contacts, and companies, fields of this type are PHONE, EMAIL, WEB, and IM" (b24restdocs
 * api-reference/crm/data-types.md#crm_multifield; crm/leads/crm-lead-fields.md, crm/contacts/crm-contact-fields.md and
 * crm/companies/crm-company-fields.md list the four with these titles).
 */
const MULTIFIELD_DEFS: Record<string, FieldDef> = {
  PHONE: f("crm_multifield", "Phone", MULTI),
  EMAIL: f("crm_multifield", "E-mail", MULTI),
  WEB: f("crm_multifield", "Website", MULTI),
  IM: f("crm_multifield", "Messenger", MULTI),
};

/** A lead's address as crm.lead.fields lists it (crm/leads/crm-lead-fields.md; crm.address.list: methods-address.ts). */
const LEAD_ADDRESS: Record<string, FieldDef> = {
  ADDRESS: f("string", "Address"),
  ADDRESS_2: f("string", "Address (Line 2)"),
  ADDRESS_CITY: f("string", "City"),
  ADDRESS_POSTAL_CODE: f("string", "Postal Code"),
  ADDRESS_REGION: f("string", "Region"),
  ADDRESS_PROVINCE: f("string", "Province"),
  ADDRESS_COUNTRY: f("string", "Country"),
  ADDRESS_COUNTRY_CODE: f("string", "Country Code"),
};

export const FIELDS: Record<Entity, Record<string, FieldDef>> = {
  deal: {
    ...COMMON,
    TITLE: f("string", "Name", { isRequired: true }),
    STAGE_ID: status("Stage", "DEAL_STAGE"),
    CATEGORY_ID: f("crm_category", "Sales Funnel", { isImmutable: true }),
    OPPORTUNITY: f("double", "Amount"),
    CURRENCY_ID: f("crm_currency", "Currency"),
    CLOSEDATE: f("date", "Close date"),
    CONTACT_ID: f("crm_contact", "Contact"),
    COMPANY_ID: f("crm_company", "Company"),
    ...UF_FIELDS,
  },
  contact: {
    ...COMMON,
    NAME: f("string", "First name"),
    LAST_NAME: f("string", "Last name"),
    POST: f("string", "Position"),
    ...MULTIFIELD_DEFS,
    COMPANY_ID: f("crm_company", "Company"),
    ...UF_FIELDS,
  },
  company: {
    ...COMMON,
    TITLE: f("string", "Company name", { isRequired: true }),
    INDUSTRY: status("Industry", "INDUSTRY"),
    REVENUE: f("double", "Annual revenue"),
    ...MULTIFIELD_DEFS,
    ...UF_FIELDS,
  },
  lead: {
    ...COMMON,
    TITLE: f("string", "Lead name", { isRequired: true }),
    NAME: f("string", "First name"),
    STATUS_ID: status("Status", "STATUS"),
    OPPORTUNITY: f("double", "Amount"),
    SOURCE_ID: status("Source", "SOURCE"),
    ...MULTIFIELD_DEFS,
    ...LEAD_ADDRESS,
    ...UF_FIELDS,
  },
};

export function seedUsers(): Map<number, FakeUser> {
  const people: [string, string, boolean][] = [
    ["Anna", "Admin", true],
    ["Boris", "Manager", false],
    ["Clara", "Sales", false],
    ["Dmitry", "Support", false],
  ];
  const user = (
    id: number,
    NAME: string,
    LAST_NAME: string,
    EMAIL: string,
    more: Partial<FakeUser> = {},
  ): FakeUser => ({ ID: String(id), NAME, LAST_NAME, EMAIL, ADMIN: false, ACTIVE: true, ...more });
  const users = people.map(([n, l, a], i) => user(i + 1, n, l, `${n.toLowerCase()}@example.com`, { ADMIN: a }));
  // More than one user.get page (50) of staff, a dismissed user and an extranet user: authors of old changes
  // include both (user-get.md: `ACTIVE` true excludes dismissed users; `USER_TYPE` extranet).
  for (let id = 5; id <= 60; id++) users.push(user(id, "Staff", `No. ${id}`, `staff${id}@example.com`));
  users.push(user(61, "Ivan", "Dismissed", "ivan@example.com", { ACTIVE: false }));
  users.push(user(62, "Eve", "Partner", "eve@partner.example", { extranet: true }));
  return new Map(users.map((u) => [Number(u.ID), u]));
}

const dealStage = (id: number, stage: string) =>
  id % FUNNEL_1_EVERY === 0 ? { CATEGORY_ID: "1", STAGE_ID: `C1:${stage}` } : { CATEGORY_ID: "0", STAGE_ID: stage };

const WORDS = ["Alpha", "Nova", "Orbit", "Vector", "Summit", "Harbor", "Pixel", "Quartz", "Atlas", "Zenith"];

export function seedRecord(entity: Entity, id: number, rand: () => number, isoAt: string): CrmRecord {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const user = String(1 + Math.floor(rand() * 4));
  const base: CrmRecord = {
    ID: String(id),
    ASSIGNED_BY_ID: user,
    CREATED_BY_ID: user,
    MODIFY_BY_ID: user,
    DATE_CREATE: isoAt,
    DATE_MODIFY: isoAt,
    COMMENTS: "",
    UF_CRM_TEXT: `${pick(WORDS)} note`,
    UF_CRM_AMOUNT: String(Math.floor(rand() * 100)),
    UF_CRM_BUDGET: `${Math.floor(rand() * 9000) + 1000}|EUR`,
    UF_CRM_DUE: "2026-12-31",
    UF_CRM_MEETING: isoAt,
    UF_CRM_VIP: rand() < 0.2 ? "1" : "0",
    UF_CRM_SOURCE: pick(["41", "42", "43"]),
    UF_CRM_TAGS: [pick(WORDS).toLowerCase()],
    UF_CRM_CONTRACT: null,
    UF_CRM_PARTNER: "",
    UF_CRM_CURATOR: user,
    UF_CRM_DOCS: [],
  };
  const title = `${pick(WORDS)} ${pick(WORDS)} #${id}`;
  if (entity === "deal")
    return {
      ...base,
      TITLE: title,
      ...dealStage(id, pick(STAGES).ID),
      OPPORTUNITY: `${Math.floor(rand() * 50000)}.00`,
      CURRENCY_ID: "EUR",
      CLOSEDATE: "2026-12-31",
      CONTACT_ID: String(1 + (id % 20)),
      COMPANY_ID: String(1 + (id % 10)),
    };
  if (entity === "contact")
    return {
      ...base,
      NAME: pick(["Ivan", "Maria", "John", "Olga"]),
      LAST_NAME: pick(WORDS),
      POST: "Manager",
      COMPANY_ID: String(1 + (id % 10)),
      PHONE: [{ ID: String(id * 10), VALUE_TYPE: "WORK", VALUE: `+4930${100000 + id}`, TYPE_ID: "PHONE" }],
      EMAIL: [{ ID: String(id * 10 + 1), VALUE_TYPE: "WORK", VALUE: `c${id}@example.com`, TYPE_ID: "EMAIL" }],
    };
  if (entity === "company")
    return {
      ...base,
      TITLE: `${pick(WORDS)} GmbH #${id}`,
      INDUSTRY: "IT",
      REVENUE: String(Math.floor(rand() * 1e6)),
      PHONE: [],
    };
  return {
    ...base,
    TITLE: title,
    NAME: pick(["Ivan", "Maria"]),
    STATUS_ID: "NEW",
    OPPORTUNITY: "0.00",
    SOURCE_ID: "WEB",
  };
}
