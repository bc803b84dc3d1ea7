import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { loadTracking } from "@/lib/admin/tracking";
import { getDb } from "@/lib/db";
import type { EntityKey } from "@/lib/history/entity-types";
import { getFieldMeta } from "@/lib/history/fields";
import type { ReadTrigger } from "@/lib/history/merged";
import { attachProductRows } from "@/lib/history/product-rows";
import { fetchItems } from "@/lib/history/items";
import type { CrmRecord } from "@/lib/history/records";
import { applySnapshots, RECORD_FIELD } from "@/lib/history/snapshots";
import { resolveUserNames } from "@/lib/history/users";

// Live capture: a CRM event carries only the record's ID; we fetch the record, diff it against the last snapshot and
// store each changed field with who (MODIFY_BY_ID) and when (DATE_MODIFY) — lib/history/snapshots.ts. Events are
// coalesced: all the ids of one portal and entity that a worker claimed are fetched in one batched request
// (lib/history/records.ts). Coalescing loses nothing — an event says only "record N changed", so even one fetch per
// event reads the current state, not the state of that event.
// Quotes, new invoices and smart processes (lib/history/entity-types.ts): read with crm.item.list, in the same shape.
export type CrmEntityType = EntityKey;

export interface CrmDeletion {
  portalId: string;
  entityType: CrmEntityType;
  entityId: number;
  receivedAt: Date;
}

/**
 * Fetches the records in batched requests and captures their changes; `created` names the ids whose event was an
 * add (their first snapshot is recorded as "created"). Ids deleted meanwhile are skipped: their delete event records
 * that. Returns the number of changes stored.
 */
export async function captureRecords(
  portalId: string,
  entityType: CrmEntityType,
  ids: number[],
  opts: { created?: Set<number>; triggers?: Map<number, ReadTrigger>; client?: BitrixClient } = {},
): Promise<number> {
  const client = opts.client ?? (await bitrixFor(portalId));
  const meta = await getFieldMeta(portalId, entityType, client);
  const reread = recordReader(portalId, entityType, client, meta);
  const readAt = new Date();
  return applySnapshots(portalId, entityType, await reread(ids), meta, {
    source: "event",
    created: opts.created,
    triggers: opts.triggers,
    readAt,
    reread,
  });
}

/**
 * Live capture's read of records: the records (a deleted one is missing), their product rows where the type has them
 * (diffed too), and their authors' names first — a change must never be visible before its author's name is (the
 * tab would show "#<id>"). Also the read that settles a record another pass read under the same DATE_MODIFY
 * (snapshots.ts `reread`).
 */
export function recordReader(
  portalId: string,
  entityType: string,
  client: BitrixClient,
  meta: Awaited<ReturnType<typeof getFieldMeta>>,
): (ids: number[]) => Promise<CrmRecord[]> {
  return async (ids) => {
    const records = [...(await fetchItems(client, entityType as EntityKey, ids, meta)).values()];
    await attachProductRows(client, entityType, records);
    await resolveUserNames(
      portalId,
      records.map((r) => Number(r.MODIFY_BY_ID)),
      client,
    );
    return records;
  };
}

/** The ids among `ids` that the portal still has (read with the app's token, which sees every record). */
export async function existingRecords(
  portalId: string,
  entityType: CrmEntityType,
  ids: number[],
): Promise<Set<number>> {
  const client = await bitrixFor(portalId);
  const meta = await getFieldMeta(portalId, entityType, client);
  return new Set((await fetchItems(client, entityType as EntityKey, ids, meta)).keys());
}

/** A delete event: recorded once, and the snapshot goes (a later edit of the same id would have no baseline). */
export async function recordDeletion(input: CrmDeletion): Promise<void> {
  const { portalId, entityType, entityId } = input;
  const db = getDb();
  if (!(await loadTracking(portalId))(entityType)) {
    // a type the admin left out: its snapshot goes, nothing is kept
    await db.crmSnapshot.deleteMany({ where: { portalId, entityType, entityId } });
    return;
  }
  const snapshot = await db.crmSnapshot.findUnique({
    where: { portalId_entityType_entityId: { portalId, entityType, entityId } },
    select: { entityId: true },
  });
  if (
    !snapshot &&
    (await db.fieldChange.count({
      where: { portalId, entityType, entityId, field: RECORD_FIELD, newValue: { equals: "deleted" } },
    }))
  )
    return; // a replayed delete
  await db.$transaction([
    db.fieldChange.create({
      data: {
        portalId,
        entityType,
        entityId,
        field: RECORD_FIELD,
        oldValue: snapshot ? "exists" : Prisma.JsonNull,
        newValue: "deleted",
        changedById: null,
        changedAt: input.receivedAt,
      },
    }),
    db.crmSnapshot.deleteMany({ where: { portalId, entityType, entityId } }),
  ]);
}
