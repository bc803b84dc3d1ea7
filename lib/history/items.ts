import "server-only";
import { BitrixError, isBitrixError, type BatchResult, type BitrixClient, type CallResult } from "@/lib/bitrix";
import type { FieldMetaLite } from "@/lib/history/diff";
import {
  entityTypeIdOf,
  FIXED_ITEM_TYPES,
  isItemType,
  keyOfEntityTypeId,
  type EntityKey,
  type ItemEntityType,
} from "@/lib/history/entity-types";
import { nameFiles, type FileLinks } from "@/lib/history/file-names";
import { attachLeadAddresses } from "@/lib/history/lead-address";
import { keyMapOf, legacyRecordOf, type LegacyFieldMeta } from "@/lib/history/legacy-items";
import type { CrmRecord } from "@/lib/history/records";

// Every CRM type is read through the universal crm.item.* methods (b24restdocs crm/universal/crm-item-list.md,
// crm-item-fields.md): camelCase names (`updatedTime`, `updatedBy`), answers wrapped in `{items}` / `{item}` /
// `{fields}`. Records are read by id: `@id` filter, 50 ids a command, 50 commands a batch, a failed command throws.
// One small adapter puts an item into the record shape snapshots.ts expects:
// - quotes, new invoices, smart processes keep their camelCase names (custom fields `ufCrm…`, useOriginalUfNames
//   "N"): ID, DATE_MODIFY (← updatedTime) and MODIFY_BY_ID (← updatedBy), the item's bookkeeping fields left out so
//   they never read as a user's edit;
// - leads, deals, contacts and companies keep the legacy UPPER_CASE keys their history has always had (custom fields
//   asked for as UF_CRM_…, useOriginalUfNames "Y"; `fm` as PHONE/EMAIL/…; response-only names dropped):
//   lib/history/legacy-items.ts, decision 015.
/** "Can contain only field names or '*'" (crm-item-list.md); "*" is every field crm.item.fields lists, `ufCrm…` too,
 *  and the only select with which a lead's, contact's or company's `fm` arrives (object-fields.md#select). */
export const ITEM_SELECT = ["*"];
const IDS_PER_COMMAND = 50;

/** Fields that change on every save (or never) and are no user's edit; the snapshot keeps them as ID/DATE_MODIFY/… */
const ITEM_BOOKKEEPING = new Set([
  "id",
  "entityTypeId",
  "updatedTime",
  "updatedBy",
  "createdTime",
  "createdBy",
  "movedTime",
  "movedBy",
  "lastActivityTime",
  "lastActivityBy",
  "lastCommunicationTime",
]);

export function itemToRecord(item: Record<string, unknown>): CrmRecord {
  const rest = Object.fromEntries(Object.entries(item).filter(([k]) => !ITEM_BOOKKEEPING.has(k)));
  return { ...rest, ID: Number(item.id), DATE_MODIFY: item.updatedTime ?? null, MODIFY_BY_ID: item.updatedBy ?? null };
}

export type ToRecord = (item: Record<string, unknown>) => CrmRecord;

/**
 * crm.item.get/list answer a file field as {id, url, urlMachine} (a list of them for a multiple field), and urlMachine
 * carries an auth token: "do not publish it and do not record it in logs" (b24restdocs
 * api-reference/files/how-to-update-files.md). It is dropped here, before any snapshot, change or CSV could keep it;
 * `id` and `url` (the portal's own link, for a signed-in user) stay.
 */
export function withoutMachineUrls(record: CrmRecord, links?: FileLinks): CrmRecord {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object" && "urlMachine" in v) {
      const { urlMachine, ...rest } = v as Record<string, unknown>;
      // handed to the naming right after this read (file-names.ts), never stored
      const id = Number(rest.id);
      if (links && typeof urlMachine === "string" && Number.isInteger(id)) links.set(id, urlMachine);
      return rest;
    }
    return v;
  };
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, strip(v)]));
}

/**
 * How an item of this type becomes a record: by the type's field meta (getFieldMeta) for the legacy four. `links`
 * gathers its files' download links for nameFiles.
 */
export function recordAdapter(key: EntityKey, meta: Record<string, FieldMetaLite>, links?: FileLinks): ToRecord {
  if (isItemType(key)) return (item) => withoutMachineUrls(itemToRecord(item), links);
  const keyMap = keyMapOf(meta as Record<string, LegacyFieldMeta>);
  return (item) => withoutMachineUrls(legacyRecordOf(item, keyMap), links);
}

/** Custom fields under their UF_CRM_… names for the legacy four (their stored keys), camelCase for the others. */
const ufNames = (key: EntityKey) => (isItemType(key) ? "N" : "Y");

export function itemListParams(key: EntityKey, extra: Record<string, unknown>): Record<string, unknown> {
  return { entityTypeId: entityTypeIdOf(key), select: ITEM_SELECT, useOriginalUfNames: ufNames(key), ...extra };
}

/** A batch of crm.item.list answers, `{items}` each, as the record pages records.ts and backfill.ts read. */
export function itemPages(res: BatchResult, toRecord: ToRecord): BatchResult {
  const result = Object.fromEntries(
    Object.entries(res.result).map(([k, v]) => {
      const items = (v as { items?: unknown } | null)?.items;
      return [k, Array.isArray(items) ? (items as Record<string, unknown>[]).map(toRecord) : v];
    }),
  );
  return { ...res, result } as BatchResult;
}

/** The current state of the given items; ids that no longer exist are absent from the map. */
export async function fetchItems(
  client: BitrixClient,
  key: EntityKey,
  ids: number[],
  meta: Record<string, FieldMetaLite>,
): Promise<Map<number, CrmRecord>> {
  const unique = [...new Set(ids)].sort((a, b) => a - b);
  const out = new Map<number, CrmRecord>();
  if (!unique.length) return out;
  const commands: Record<string, [string, Record<string, unknown>]> = {};
  for (let i = 0; i < unique.length; i += IDS_PER_COMMAND) {
    const filter = { "@id": unique.slice(i, i + IDS_PER_COMMAND) };
    commands[`q${i / IDS_PER_COMMAND}`] = ["crm.item.list", itemListParams(key, { filter, start: -1 })];
  }
  const answer = await client.batch(commands, { lane: "background", idempotent: true });
  const links: FileLinks = new Map();
  const res = itemPages(answer, recordAdapter(key, meta, links));
  // A failed command must not read as "these items were deleted": the whole fetch fails and is retried.
  const [failed] = Object.values(res.errors);
  if (failed) throw new BitrixError(failed.error, 0, failed.error_description, "crm.item.list");
  for (const page of Object.values(res.result)) {
    if (!Array.isArray(page)) continue;
    for (const record of page as CrmRecord[]) out.set(Number(record.ID), record);
  }
  await attachLeadAddresses(client, key, [...out.values()]); // a lead's address is not an item field
  await nameFiles(client, links, "background"); // a file's name is not in the item either (file-names.ts)
  return out;
}

export type ItemFieldMeta = FieldMetaLite & { title?: string; upperName?: string; statusType?: string };

/** crm.item.fields of a type: `{fields: {<name>: {type, isMultiple, title, upperName, statusType, items}}}`. */
export async function readItemFields(client: BitrixClient, key: EntityKey): Promise<Record<string, ItemFieldMeta>> {
  const params = { entityTypeId: entityTypeIdOf(key), useOriginalUfNames: ufNames(key) };
  const res = await client.call<{ fields?: Record<string, ItemFieldMeta> }>("crm.item.fields", params, {
    lane: "background",
  });
  return res.result.fields ?? {};
}

/**
 * The item types of a portal: quotes, new invoices and every smart process crm.type.list names (`{types}`, paged by
 * `next`). Only CRM admins may list types (crm-type-list.md): an app whose token may not, or a box without the
 * method, keeps quotes and invoices.
 */
export async function listPortalItemTypes(client: BitrixClient): Promise<ItemEntityType[]> {
  const dynamic: ItemEntityType[] = [];
  try {
    for (let start: number | undefined = 0; start !== undefined;) {
      const res: CallResult<{ types?: { entityTypeId: number }[] }> = await client.call(
        "crm.type.list",
        { order: { id: "ASC" }, start },
        { lane: "background" },
      );
      for (const t of res.result.types ?? []) {
        const key = keyOfEntityTypeId(Number(t.entityTypeId));
        if (key?.startsWith("dynamic_")) dynamic.push(key as ItemEntityType);
      }
      start = res.next !== undefined && res.next > start ? res.next : undefined;
    }
  } catch (e) {
    if (!isBitrixError(e) || !/ACCESS_DENIED|METHOD_NOT_FOUND/.test(e.code)) throw e;
  }
  return [...FIXED_ITEM_TYPES, ...dynamic];
}
