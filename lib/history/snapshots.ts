import "server-only";
import { Prisma } from "@prisma/client";
import { getDb, getPool } from "@/lib/db";
import { diffRecords, PRODUCTS_FIELD, READ_PATH_FIELD, type FieldMetaLite } from "@/lib/history/diff";
import { mergedFrom, type ChangeSource, type ReadTrigger } from "@/lib/history/merged";
import { queueWatchDeliveries } from "@/lib/watch/match";
import { parseTracking, trackingFilter } from "@/lib/admin/tracking";
import type { CrmRecord } from "@/lib/history/records";

// The one place where fetched records meet their snapshots — for live capture (source "event"), the backfill
// (source "backfill": a re-run after missed events records what changed meanwhile) and the reconciliation sweep
// (source "reconciled", reconcile.ts); a read that may stand for several edits says so (merged.ts). In one
// transaction the snapshot rows are locked in id order (no deadlock between workers), each record is diffed
// against its snapshot, an older fetched state never overwrites a newer snapshot, and changes and snapshots are written together.
//
// "Older" needs more than DATE_MODIFY, which has whole seconds: two saves in one second carry the same stamp, and
// reads run side by side (a capture beside a backfill page or a sweep, an offline drain beside an online event). A
// read that began before the snapshot's state had been read (`settledAt`) may hold an older state under the same
// stamp: applied, it would record the newer values changed back, and the next read would record them again. Such
// a read is not applied; its records are read once more (`reread`), and that read, begun after the snapshot was
// settled, is at least as new. Instants come from the app's clock on both sides (hosts kept in sync by NTP).

/** The pseudo-field of whole-record changes: created / deleted. */
export const RECORD_FIELD = "__record__";

const json = (v: unknown) => (v ?? Prisma.JsonNull) as Prisma.InputJsonValue;
/** The value a stored change holds, back from json(): Prisma's JsonNull is null. */
const jsonValue = (v: unknown) => (v === Prisma.JsonNull ? null : v);
const modifiedAtOf = (r: CrmRecord) => (r.DATE_MODIFY ? new Date(String(r.DATE_MODIFY)) : null);

/**
 * New snapshots in one statement from one JSON parameter: a backfill page is 2 500 records, and Prisma's createMany
 * spends ≈ 5× longer binding a row of parameters per record (1.4 s vs 0.25 s per page on PostgreSQL).
 */
const INSERT_SNAPSHOTS = `
  INSERT INTO "CrmSnapshot" ("portalId", "entityType", "entityId", fields, "modifiedAt", "settledAt", "updatedAt")
  SELECT $1, $2, (x->>'id')::int, x->'fields', (x->>'at')::timestamp, $4::timestamp, now() AT TIME ZONE 'UTC'
  FROM jsonb_array_elements($3::jsonb) AS x
  ON CONFLICT DO NOTHING
  RETURNING "entityId"`;

function snapshotRows(records: CrmRecord[]): string {
  return JSON.stringify(
    records.map((r) => {
      const at = modifiedAtOf(r);
      return {
        id: Number(r.ID),
        fields: r,
        at: at && !Number.isNaN(at.getTime()) ? at.toISOString().slice(0, -1) : null,
      };
    }),
  );
}

/** An instant as the timestamp columns hold it (UTC, without zone). */
const utc = (d: Date) => d.toISOString().slice(0, -1);

async function insertSnapshots(
  tx: Prisma.TransactionClient,
  portalId: string,
  entityType: string,
  records: CrmRecord[],
  settledAt: Date,
) {
  await tx.$executeRawUnsafe(INSERT_SNAPSHOTS, portalId, entityType, snapshotRows(records), utc(settledAt));
}

/**
 * The backfill's first look at records without a snapshot: inserted straight through the pool, outside Prisma
 * (whose engine would copy the page's 2.5 MB parameter through WebAssembly, a quarter of a 100 000-record backfill's
 * time) and before applySnapshots' transaction. Safe outside it: a first snapshot records no change, an existing
 * snapshot is left alone (a newer captured state stays the baseline), and a crash before the cursor moves only means
 * the retried page finds these snapshots and diffs against them. Returns the ids inserted.
 */
export async function insertFirstSnapshots(
  portalId: string,
  entityType: string,
  records: CrmRecord[],
): Promise<Set<number>> {
  if (!records.length) return new Set();
  const res = await getPool().query<{ entityId: number }>(INSERT_SNAPSHOTS, [
    portalId,
    entityType,
    snapshotRows(records),
    utc(new Date()),
  ]);
  return new Set(res.rows.map((r) => r.entityId));
}

export interface ApplyOptions {
  /** "event": live capture; "backfill" and "reconciled": passes that find what changed meanwhile (reconcile.ts) */
  source: ChangeSource;
  /** live capture: what made it read each record — whether the read may stand for several edits (merged.ts) */
  triggers?: Map<number, ReadTrigger>;
  /** ids whose event was an add: their first snapshot is recorded as "created" */
  created?: Set<number>;
  /** extra writes that must commit with the snapshots (the backfill's cursor); throwing aborts everything */
  alsoInTransaction?: (tx: Prisma.TransactionClient) => Promise<void>;
  /** when the read that gave `records` began (taken before the REST call) */
  readAt: Date;
  /**
   * Reads these records again (as live capture reads them): for records whose read may be older than their snapshot
   * under the same DATE_MODIFY. Without it such records are left for the next read.
   */
  reread?: (ids: number[]) => Promise<CrmRecord[]>;
}

/** Rounds of reread before a record is left to the next read (each round begins after the previous one settled). */
const REREADS = 2;

export async function applySnapshots(
  portalId: string,
  entityType: string,
  records: CrmRecord[],
  meta: Record<string, FieldMetaLite>,
  opts: ApplyOptions,
): Promise<number> {
  let { stored, unsettled } = await applyOnce(portalId, entityType, records, meta, opts);
  // Only the first pass carries the caller's extra writes (the backfill's cursor): a reread is about records alone.
  const again = { ...opts, alsoInTransaction: undefined };
  for (let round = 0; unsettled.length && opts.reread && round < REREADS; round++) {
    const readAt = new Date();
    const fresh = await opts.reread(unsettled); // a record gone meanwhile is missing here: its delete event says so
    const next = await applyOnce(portalId, entityType, fresh, meta, { ...again, readAt });
    stored += next.stored;
    unsettled = next.unsettled;
  }
  return stored;
}

async function applyOnce(
  portalId: string,
  entityType: string,
  records: CrmRecord[],
  meta: Record<string, FieldMetaLite>,
  opts: ApplyOptions,
): Promise<{ stored: number; unsettled: number[] }> {
  const ids = records.map((r) => Number(r.ID));
  return getDb().$transaction(
    async (tx) => {
      const rows = ids.length
        ? await tx.$queryRaw<
            { entityId: number; fields: CrmRecord; modifiedAt: Date | null; settledAt: Date | null }[]
          >`
      SELECT "entityId", fields, "modifiedAt", "settledAt" FROM "CrmSnapshot"
      WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ANY(${ids}::int[]) ORDER BY "entityId" FOR UPDATE`
        : [];
      const settledAt = new Date(); // after the rows are locked, so after every read of theirs and ours had ended
      // What the admin left out is read, but no change of it is kept (lib/admin/tracking.ts); the watch rules' version.
      const portal = await tx.portal.findUnique({
        where: { id: portalId },
        select: { untrackedTypes: true, untrackedFields: true, watchRulesVersion: true },
      });
      const tracked = trackingFilter(portal ? parseTracking(portal) : { untrackedTypes: [], untrackedFields: {} });
      const prev = new Map(rows.map((r) => [r.entityId, r]));
      const changes: Prisma.FieldChangeCreateManyInput[] = [];
      const fresh: CrmRecord[] = [];
      const updated: CrmRecord[] = [];
      const unsettled: number[] = [];
      for (const record of records) {
        const entityId = Number(record.ID);
        const before = prev.get(entityId);
        const modifiedAt = modifiedAtOf(record) ?? new Date();
        if (before?.modifiedAt && before.modifiedAt > modifiedAt) continue; // a newer state is already the baseline
        const diff = before
          ? diffRecords(meta, before.fields, record)
          : opts.created?.has(entityId)
            ? [{ field: RECORD_FIELD, oldValue: null, newValue: "created" }]
            : [];
        if (
          diff.length &&
          before?.settledAt &&
          opts.readAt < before.settledAt &&
          before.modifiedAt?.getTime() === modifiedAt.getTime()
        ) {
          // same second, read before the snapshot's state
          unsettled.push(entityId);
          continue;
        }
        const changedById = Number(record.MODIFY_BY_ID) || null;
        const merged = mergedFrom(opts.source, before?.modifiedAt ?? null, modifiedAt, opts.triggers?.get(entityId));
        for (const c of diff) {
          if (!tracked(entityType, c.field)) continue;
          changes.push({
            portalId,
            entityType,
            entityId,
            field: c.field,
            oldValue: json(c.oldValue),
            newValue: json(c.newValue),
            changedById,
            changedAt: modifiedAt,
            source: opts.source,
            mergedFrom: merged,
          });
        }
        // A read without product rows (backfill, sweep) keeps the rows the snapshot had: the next read diffs them.
        if (before && PRODUCTS_FIELD in before.fields && !(PRODUCTS_FIELD in record)) {
          record[PRODUCTS_FIELD] = before.fields[PRODUCTS_FIELD];
        }
        if (!before) fresh.push(record);
        // A snapshot read through another path (crm.<entity>.list before decision 015) takes this read's shape.
        else if (
          diff.length ||
          before.modifiedAt?.getTime() !== modifiedAt.getTime() ||
          before.fields[READ_PATH_FIELD] !== record[READ_PATH_FIELD]
        )
          updated.push(record);
      }
      if (changes.length) await tx.fieldChange.createMany({ data: changes });
      // watch rules (lib/watch/match.ts): what these changes owe is queued in this transaction, or not at all
      await queueWatchDeliveries(
        tx,
        portalId,
        changes.map((c) => ({
          entityType,
          entityId: c.entityId,
          field: c.field,
          oldValue: jsonValue(c.oldValue),
          newValue: jsonValue(c.newValue),
          changedById: c.changedById ?? null,
          changedAt: c.changedAt as Date,
          source: c.source ?? opts.source,
        })),
        new Map(records.map((r) => [Number(r.ID), r])),
        portal?.watchRulesVersion ?? 0,
      );
      if (fresh.length) await insertSnapshots(tx, portalId, entityType, fresh, settledAt);
      for (const record of updated) {
        await tx.crmSnapshot.update({
          where: { portalId_entityType_entityId: { portalId, entityType, entityId: Number(record.ID) } },
          data: { fields: record as Prisma.InputJsonValue, modifiedAt: modifiedAtOf(record), settledAt },
        });
      }
      await opts.alsoInTransaction?.(tx);
      return { stored: changes.length, unsettled };
    },
    { timeout: 30_000 },
  );
}
