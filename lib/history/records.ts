import "server-only";
import { BitrixError, type BitrixClient } from "@/lib/bitrix";
import type { FieldMetaLite } from "@/lib/history/diff";
import { isItemType } from "@/lib/history/entity-types";
import { fetchItems } from "@/lib/history/items";

// One shape for a CRM record, whether the backfill lists it or live capture fetches it — otherwise the first diff
// after the backfill reports fields the list never returned as "changed". `crm.<entity>.list` with "*" leaves out
// custom and multiple fields and "UF_*" leaves out multiple custom fields (crm-deal-list.md), so every multiple field
// (PHONE, EMAIL, multiple UF_*) is named explicitly. Live capture reads records with the same list method and an
// `@ID` (IN) filter: 50 records per command, up to 50 commands per batch request — 2 500 records per request instead
// of one `crm.<entity>.get` each.
export type CrmRecord = Record<string, unknown>;
export const IDS_PER_COMMAND = 50;

export function recordSelect(meta: Record<string, FieldMetaLite>): string[] {
  const multiple = Object.entries(meta).filter(([, m]) => m.isMultiple).map(([name]) => name).sort();
  return ["*", "UF_*", ...multiple];
}

/** The current state of the given records; ids that no longer exist are absent from the map. */
export async function fetchRecords(client: BitrixClient, entityType: string, ids: number[], meta: Record<string, FieldMetaLite>): Promise<Map<number, CrmRecord>> {
  if (isItemType(entityType)) return fetchItems(client, entityType, ids); // crm.item.list, lib/history/items.ts
  const unique = [...new Set(ids)].sort((a, b) => a - b);
  const select = recordSelect(meta);
  const commands: Record<string, [string, Record<string, unknown>]> = {};
  for (let i = 0; i < unique.length; i += IDS_PER_COMMAND) {
    commands[`q${i / IDS_PER_COMMAND}`] = [`crm.${entityType}.list`, { filter: { "@ID": unique.slice(i, i + IDS_PER_COMMAND) }, select, start: -1 }];
  }
  const out = new Map<number, CrmRecord>();
  if (!unique.length) return out;
  const res = await client.batch(commands, { lane: "background", idempotent: true });
  // A failed command must not read as "these records were deleted": the whole fetch fails and is retried.
  const [failed] = Object.values(res.errors);
  if (failed) throw new BitrixError(failed.error, 0, failed.error_description, `crm.${entityType}.list`);
  for (const page of Object.values(res.result)) {
    if (!Array.isArray(page)) continue;
    for (const record of page as CrmRecord[]) out.set(Number(record.ID), record);
  }
  return out;
}
