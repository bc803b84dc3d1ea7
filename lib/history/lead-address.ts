import type { BitrixCaller } from "@/lib/bitrix/contract";
import { batchVia } from "@/lib/bitrix/paging";
import { BitrixError } from "@/lib/bitrix/errors";
import { LEAD_ADDRESS_KEYS } from "@/lib/history/diff";
import type { CrmRecord } from "@/lib/history/records";
import { portalLacks } from "@/lib/lifecycle/probe";

// A lead's address. crm.lead.* read and write it as the lead's ADDRESS_* fields (b24restdocs
// api-reference/crm/leads/crm-lead-fields.md), and the history has kept it under those keys; crm.item.* does not carry
// it (crm/universal/object-fields.md: the lead's `address` is "Deprecated. Field is disabled"). It lives in CRM
// addresses, "linked directly to the lead itself" (tutorials/crm/how-to-get-lists/how-to-get-address.md): rows of
// crm.address.list with ENTITY_TYPE_ID 1 and the lead's id as ENTITY_ID (crm/requisites/addresses/crm-address-fields.md)
// — the lead's ADDRESS_* are its address of type 1, "Physical address" (crm/auxiliary/enum/crm-enum-address-type.md).
// Read beside the item and kept under the legacy keys, so an address edit is recorded as before decision 015.

/**
 * crm.address.list field → the lead's legacy key, in the order of LEAD_ADDRESS_KEYS (COUNTRY_CODE is left out: "Not
 * used, retained for backward compatibility", crm-address-fields.md).
 */
const ADDRESS_FIELDS = ["ADDRESS_1", "ADDRESS_2", "CITY", "POSTAL_CODE", "REGION", "PROVINCE", "COUNTRY"];
export const LEAD_ADDRESS_FIELDS: Readonly<Record<string, string>> = Object.fromEntries(
  ADDRESS_FIELDS.map((f, i) => [f, LEAD_ADDRESS_KEYS[i]!]),
);
export { LEAD_ADDRESS_KEYS };
const LEAD = 1;
const PRIMARY = 1;
const IDS_PER_COMMAND = 50; // one address of type 1 a lead: 50 leads fit one page of 50

export const isLeadAddressKey = (entityType: string, field: string) =>
  entityType === "lead" && LEAD_ADDRESS_KEYS.includes(field);

/**
 * Puts each lead's address into its record under the ADDRESS_* keys (null where it has none): one crm.address.list
 * command per 50 leads, in one batch. A failed command throws: a lead must not read as "address removed".
 */
export async function attachLeadAddresses(
  client: BitrixCaller,
  entityType: string,
  records: CrmRecord[],
  lane: "background" | "interactive" = "background",
): Promise<void> {
  if (entityType !== "lead" || !records.length) return;
  // a box whose crm module lacks the method (the probe found it missing) is not asked: its leads keep no address
  // keys, which the diff reads as "not read", never as "cleared" (lib/history/diff.ts)
  if (await portalLacks(client.portal.id, "crm.address.list")) return;
  const ids = records.map((r) => Number(r.ID));
  const select = ["ENTITY_ID", ...Object.keys(LEAD_ADDRESS_FIELDS)];
  const commands: Record<string, [string, Record<string, unknown>]> = {};
  for (let i = 0; i < ids.length; i += IDS_PER_COMMAND) {
    const filter = { ENTITY_TYPE_ID: LEAD, TYPE_ID: PRIMARY, "@ENTITY_ID": ids.slice(i, i + IDS_PER_COMMAND) };
    commands[`a${i / IDS_PER_COMMAND}`] = ["crm.address.list", { filter, select }];
  }
  // the shared batch (lib/bitrix/paging.ts) for the app's client and a user's caller alike; a failed command throws
  const res = await batchVia(client)(commands, { lane, idempotent: true });
  const [failed] = Object.values(res.errors);
  if (failed) throw new BitrixError(failed.error, 0, failed.error_description, "crm.address.list");
  const pages = Object.keys(commands).map((k) => res.result[k]);
  const byLead = new Map<number, Record<string, unknown>>();
  for (const page of pages) {
    if (!Array.isArray(page))
      throw new BitrixError("MALFORMED_RESPONSE", 0, "no address list", "crm.address.list", "malformed");
    for (const row of page as Record<string, unknown>[]) byLead.set(Number(row.ENTITY_ID), row);
  }
  for (const record of records) {
    const row = byLead.get(Number(record.ID));
    for (const [field, key] of Object.entries(LEAD_ADDRESS_FIELDS)) {
      const v = row?.[field];
      record[key] = v === undefined || v === null || v === "" ? null : String(v);
    }
  }
}
