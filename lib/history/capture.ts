import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { diffRecords, type FieldMetaLite } from "@/lib/history/diff";
import { getFieldMeta } from "@/lib/history/fields";
import { fetchRecords, type CrmRecord } from "@/lib/history/records";
import { resolveUserNames } from "@/lib/history/users";

// Live capture: a CRM event carries only the record's ID; we fetch the record, diff it against the last snapshot and
// store each changed field with who (MODIFY_BY_ID) and when (DATE_MODIFY). Events are coalesced: all the ids of one
// portal and entity that a worker claimed are fetched in one batched request (lib/history/records.ts). Coalescing
// loses nothing — an event says only "record N changed", so even one fetch per event reads the current state, not
// the state of that event. The snapshot row is locked while diffing, and an older fetched state never overwrites a
// newer snapshot, so concurrent workers cannot interleave.
export type CrmEntityType = "deal" | "contact" | "company" | "lead";

/** The pseudo-field of whole-record changes: created / deleted. */
export const RECORD_FIELD = "__record__";

export interface CrmDeletion {
  portalId: string;
  entityType: CrmEntityType;
  entityId: number;
  userId?: number;
  receivedAt: Date;
}

const json = (v: unknown) => (v ?? Prisma.JsonNull) as Prisma.InputJsonValue;

async function applyRecord(portalId: string, entityType: string, record: CrmRecord, meta: Record<string, FieldMetaLite>, created: boolean): Promise<number> {
  const entityId = Number(record.ID);
  const modifiedAt = record.DATE_MODIFY ? new Date(String(record.DATE_MODIFY)) : new Date();
  const changedById = Number(record.MODIFY_BY_ID) || null;
  return getDb().$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ fields: CrmRecord; modifiedAt: Date | null }[]>`
      SELECT fields, "modifiedAt" FROM "CrmSnapshot" WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} FOR UPDATE`;
    const prev = rows[0];
    if (prev?.modifiedAt && prev.modifiedAt > modifiedAt) return 0; // a newer state is already the baseline
    const changes = prev ? diffRecords(meta, prev.fields, record) : created ? [{ field: RECORD_FIELD, oldValue: null, newValue: "created" }] : [];
    if (changes.length) {
      await tx.fieldChange.createMany({ data: changes.map((c) => ({ portalId, entityType, entityId, field: c.field, oldValue: json(c.oldValue), newValue: json(c.newValue), changedById, changedAt: modifiedAt, source: "event" })) });
    }
    await tx.crmSnapshot.upsert({ where: { portalId_entityType_entityId: { portalId, entityType, entityId } }, create: { portalId, entityType, entityId, fields: record as Prisma.InputJsonValue, modifiedAt }, update: { fields: record as Prisma.InputJsonValue, modifiedAt } });
    return changes.length;
  });
}

/**
 * Fetches the records in batched requests and captures their changes; `created` names the ids whose event was an
 * add (their first snapshot is recorded as "created"). Ids deleted meanwhile are skipped: their delete event records
 * that. Returns the number of changes stored.
 */
export async function captureRecords(portalId: string, entityType: CrmEntityType, ids: number[], opts: { created?: Set<number>; client?: BitrixClient } = {}): Promise<number> {
  const client = opts.client ?? (await bitrixFor(portalId));
  const meta = await getFieldMeta(portalId, entityType, client);
  const records = await fetchRecords(client, entityType, ids, meta);
  let changed = 0;
  for (const record of records.values()) changed += await applyRecord(portalId, entityType, record, meta, opts.created?.has(Number(record.ID)) ?? false);
  await resolveUserNames(portalId, [...records.values()].map((r) => Number(r.MODIFY_BY_ID)), client);
  return changed;
}

/** A delete event: recorded once, and the snapshot goes (a later edit of the same id would have no baseline). */
export async function recordDeletion(input: CrmDeletion): Promise<void> {
  const { portalId, entityType, entityId } = input;
  const db = getDb();
  const snapshot = await db.crmSnapshot.findUnique({ where: { portalId_entityType_entityId: { portalId, entityType, entityId } }, select: { entityId: true } });
  if (!snapshot && (await db.fieldChange.count({ where: { portalId, entityType, entityId, field: RECORD_FIELD, newValue: { equals: "deleted" } } }))) return; // a replayed delete
  await db.$transaction([
    db.fieldChange.create({ data: { portalId, entityType, entityId, field: RECORD_FIELD, oldValue: snapshot ? "exists" : Prisma.JsonNull, newValue: "deleted", changedById: input.userId ?? null, changedAt: input.receivedAt } }),
    db.crmSnapshot.deleteMany({ where: { portalId, entityType, entityId } }),
  ]);
}
