import { ListAnswer, type MethodTable } from "./rest-types";
import { matches, mayRead } from "./methods-crm";
import type { CrmRecord } from "./types";

// A lead's address (b24restdocs api-reference/crm/requisites/addresses/crm-address-fields.md): "Addresses can only be
// linked to Requisites … or Leads"; a lead's address is linked to the lead itself (ENTITY_TYPE_ID 1, ENTITY_ID and
// ANCHOR_ID the lead's id; tutorials/crm/how-to-get-lists/how-to-get-address.md: "Leads do not have Company details;
// their address is linked directly to the lead itself"). crm.lead.* still read and write it as the lead's ADDRESS_*
// fields (crm/leads/crm-lead-fields.md), crm.item.* does not (crm/universal/object-fields.md: the lead's `address` is
// "Deprecated. Field is disabled"). The fake keeps it in the lead's ADDRESS_* fields and answers crm.address.list
// from them as the address of type 1 (crm-enum-address-type.md: 1 "Physical address").

/** address field → the lead's legacy field */
const LEAD_KEYS: Record<string, string> = {
  ADDRESS_1: "ADDRESS",
  ADDRESS_2: "ADDRESS_2",
  CITY: "ADDRESS_CITY",
  POSTAL_CODE: "ADDRESS_POSTAL_CODE",
  REGION: "ADDRESS_REGION",
  PROVINCE: "ADDRESS_PROVINCE",
  COUNTRY: "ADDRESS_COUNTRY",
  COUNTRY_CODE: "ADDRESS_COUNTRY_CODE",
};
const LEAD = "1";
const PAGE = 50;

/** The lead's address as crm.address.list answers a row (every value a string or null, as the docs' example). */
function addressOf(id: number, lead: CrmRecord): CrmRecord | null {
  const row: CrmRecord = { TYPE_ID: "1", ENTITY_TYPE_ID: LEAD, ENTITY_ID: String(id) };
  let any = false;
  for (const [field, key] of Object.entries(LEAD_KEYS)) {
    const v = lead[key];
    row[field] = v === undefined || v === null || v === "" ? null : String(v);
    if (row[field] !== null) any = true;
  }
  if (!any) return null; // no address: no row
  return { ...row, LOC_ADDR_ID: null, ANCHOR_TYPE_ID: LEAD, ANCHOR_ID: String(id) };
}

export const addressMethods: MethodTable = {
  // crm-address-list.md: `filter` with the usual prefixes (`@` IN…), `select`, pages of 50 by `start`; only the
  // leads the caller may read (the fake's requisites have no addresses).
  "crm.address.list": (ctx, p) => {
    const filter = (p.filter ?? {}) as Record<string, unknown>;
    const rows: CrmRecord[] = [];
    for (const [id, lead] of ctx.portal.crm.lead) {
      const row = mayRead(ctx, "lead", id) ? addressOf(id, lead) : null;
      if (row && matches(row, filter)) rows.push(row);
    }
    const select = Object.values((p.select ?? []) as Record<string, string>);
    const shaped = select.length ? rows.map((r) => Object.fromEntries(select.map((k) => [k, r[k] ?? null]))) : rows;
    const start = Math.max(0, Number(p.start ?? 0) || 0);
    const next = start + PAGE < shaped.length ? start + PAGE : undefined;
    return new ListAnswer(shaped.slice(start, start + PAGE), shaped.length, next);
  },
};
