import "server-only";
import { BitrixError, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { liteRow, PRODUCTS_FIELD, type ProductRowLite } from "@/lib/history/diff";
import { isEntityKey, productRowOwnerOf } from "@/lib/history/entity-types";
import { portalLacks } from "@/lib/lifecycle/probe";
import type { CrmRecord } from "@/lib/history/records";

// Product rows of deals, leads, quotes, new invoices and smart-process items, kept in the snapshot under one
// pseudo-field (PRODUCTS_FIELD) so that the diff sees a row added, removed or changed like any field. Bitrix24 raises
// no event of its own for a row: every write through crm.item.productrow.* launches the owner's update operation
// (core modules/crm/lib/controller/item/productrow.php), so the owner's update event (ONCRMDEALUPDATE,
// ONCRMQUOTEUPDATE, ONCRMDYNAMICITEMUPDATE…) arrives and live capture reads the rows with the record.
//
// `crm.item.productrow.list` needs `=ownerType` and `=ownerId`, and "the only key that accepts an array of values is
// `@id`" (b24restdocs crm/universal/product-rows/crm-item-productrow-list.md) — no IN over owners: one command per
// owner, 50 to a batch request, in the background lane. A page is 50 rows; an owner whose page came back full is
// asked again after its last row id (`>id`, ordered by id), until a short page.

const PAGE = 50;

/** The type's product-row owner code (crm/data-types.md#object_type: L, D, Q, SI, T<hex>), if it has rows. */
const ownerCodeOf = (entityType: string) => (isEntityKey(entityType) ? productRowOwnerOf(entityType) : undefined);
export const hasProductRows = (entityType: string) => ownerCodeOf(entityType) !== undefined;

function command(code: string, ownerId: number, after: number): [string, Record<string, unknown>] {
  const filter = { "=ownerType": code, "=ownerId": ownerId, ...(after ? { ">id": after } : {}) };
  return ["crm.item.productrow.list", { filter, order: { id: "ASC" }, start: -1 }];
}

/** The rows of each owner, sorted by id. A failed command fails the whole read (it is retried), never "no rows". */
export async function fetchProductRows(
  client: BitrixClient,
  entityType: string,
  ids: number[],
): Promise<Map<number, ProductRowLite[]>> {
  const code = ownerCodeOf(entityType);
  const out = new Map<number, ProductRowLite[]>();
  if (!code) return out;
  let pending = new Map([...new Set(ids)].map((id) => [id, 0]));
  for (const id of pending.keys()) out.set(id, []);
  while (pending.size) {
    const commands = Object.fromEntries([...pending].map(([id, after]) => [`r${id}`, command(code, id, after)]));
    const res = await client.batch(commands, { lane: "background", idempotent: true });
    const [failed] = Object.values(res.errors);
    if (failed) throw new BitrixError(failed.error, 0, failed.error_description, "crm.item.productrow.list");
    const next = new Map<number, number>();
    for (const id of pending.keys()) {
      const rows = (res.result[`r${id}`] as { productRows?: unknown } | undefined)?.productRows;
      if (!Array.isArray(rows)) {
        throw new BitrixError(
          "MALFORMED_RESPONSE",
          0,
          "no productRows in the answer",
          "crm.item.productrow.list",
          "malformed",
        );
      }
      out.get(id)!.push(...(rows as Record<string, unknown>[]).map((r) => liteRow(r, r.measureName)));
      if (rows.length >= PAGE) next.set(id, out.get(id)!.at(-1)!.id);
    }
    pending = next;
  }
  for (const rows of out.values()) rows.sort((a, b) => a.id - b.id);
  return out;
}

/** Puts each record's product rows under PRODUCTS_FIELD (types without rows — contacts, companies — are left be). */
export async function attachProductRows(client: BitrixClient, entityType: string, records: CrmRecord[]): Promise<void> {
  if (!hasProductRows(entityType) || !records.length) return;
  // a box whose crm module predates the method (the probe found it missing) is not asked: records keep no rows
  if (await portalLacks(client.portal.id, "crm.item.productrow.list")) return;
  const rows = await fetchProductRows(
    client,
    entityType,
    records.map((r) => Number(r.ID)),
  );
  for (const record of records) record[PRODUCTS_FIELD] = rows.get(Number(record.ID)) ?? [];
}

/**
 * The backfill's records that get their first snapshot now carry their rows (so the first row edit has a baseline);
 * records that already have one are diffed without rows, and their snapshot keeps the rows it had (snapshots.ts).
 */
export async function attachFirstProductRows(
  portalId: string,
  entityType: string,
  records: CrmRecord[],
  client: BitrixClient,
): Promise<void> {
  if (!hasProductRows(entityType) || !records.length) return;
  const known = await getDb().crmSnapshot.findMany({
    where: { portalId, entityType, entityId: { in: records.map((r) => Number(r.ID)) } },
    select: { entityId: true },
  });
  const has = new Set(known.map((k) => k.entityId));
  await attachProductRows(
    client,
    entityType,
    records.filter((r) => !has.has(Number(r.ID))),
  );
}
