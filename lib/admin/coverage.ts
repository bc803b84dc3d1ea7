import "server-only";
import { getDb } from "@/lib/db";
import {
  FIXED_ENTITY_TYPES,
  isEntityKey,
  itemTypeOfEvent,
  LEGACY_TYPES,
  type EntityKey,
} from "@/lib/history/entity-types";

// Coverage, per CRM type of one portal: what its events delivered and what only the reconciliation sweeps found
// (lib/history/reconcile.ts). Bitrix24 never resends an online event it failed to deliver, so a change recorded with
// source "reconciled" is an event that was lost; the dead-lettered ones are events that arrived and could not be
// processed (Replay: lib/events/replay.ts). Every query is scoped by the portal and grouped in the database.

/** Days in the chart of sweep-only changes, today (UTC) included. */
export const COVERAGE_DAYS = 14;
const DAY_MS = 86_400_000;

export interface TypeCoverage {
  entityType: EntityKey;
  eventsReceived: number;
  lastEventAt: Date | null;
  lastSweepAt: Date | null;
  sweepOnly: number;
  /** sweep-only changes per UTC day the sweep found them, oldest first; the last is today */
  sweepOnlyPerDay: number[];
  dead: number;
}

/** `dead`: every dead-lettered row of the portal — what Replay moves —, those of no CRM type (ONCRMTYPE*) too. */
export interface Coverage {
  types: TypeCoverage[];
  dead: number;
}

/** The type an event names: legacy ones and quotes by its name, items by data[FIELDS][ENTITY_TYPE_ID] (the events
 * lib/events/handlers/crm.ts handles). */
const LEGACY_EVENT = /^ONCRM(?:(DEAL|CONTACT|COMPANY|LEAD)(?:ADD|UPDATE|DELETE)|(DEAL)MOVETOCATEGORY)$/;
export function entityTypeOfEvent(event: string, entityTypeId: string | null): EntityKey | null {
  const legacy = LEGACY_EVENT.exec(event);
  if (legacy) return (legacy[1] ?? legacy[2])!.toLowerCase() as EntityKey;
  return itemTypeOfEvent(event, { ENTITY_TYPE_ID: entityTypeId });
}

/** deal, contact, company, lead, quote, smart_invoice, then smart processes by entityTypeId. */
const ORDER: readonly string[] = FIXED_ENTITY_TYPES;
const position = (key: string) => {
  const i = ORDER.indexOf(key);
  return i >= 0 ? i : ORDER.length + Number(key.slice("dynamic_".length));
};

interface EventRow {
  event: string;
  typeId: string | null;
  received: number;
  lastAt: Date;
  dead: number;
}
interface SweepRow {
  entityType: string;
  day: number | null;
  total: number;
  changes: number;
}

function eventsByType(portalId: string) {
  // ENTITY_TYPE_ID only matters for ONCRMDYNAMICITEM*: grouping on it elsewhere would split nothing but cost work.
  return getDb().$queryRaw<EventRow[]>`
    SELECT event, CASE WHEN event LIKE 'ONCRMDYNAMICITEM%' THEN payload->'data'->'FIELDS'->>'ENTITY_TYPE_ID' END
        AS "typeId",
      count(*)::int AS received, max("receivedAt") AS "lastAt", (count(*) FILTER (WHERE status = 'dead'))::int AS dead
    FROM "EventInbox" WHERE "portalId" = ${portalId}
    GROUP BY 1, 2`;
}

function sweepOnlyByType(portalId: string, firstDay: number) {
  // Per type its total (total = 1), and its changes per UTC day of the chart (rows older than the chart: day NULL).
  // extract(epoch) of a timestamp without time zone reads it as UTC, as the app stores it.
  return getDb().$queryRaw<SweepRow[]>`
    SELECT "entityType", d.day, GROUPING(d.day)::int AS total, count(*)::int AS changes
    FROM "FieldChange",
      LATERAL (SELECT floor(extract(epoch FROM "createdAt") / 86400)::int AS day) e,
      LATERAL (SELECT CASE WHEN e.day >= ${firstDay}::int THEN e.day END AS day) d
    WHERE "portalId" = ${portalId} AND source = 'reconciled'
    GROUP BY GROUPING SETS (("entityType"), ("entityType", d.day))`;
}

/** The coverage of every type the portal has (its backfilled types) or had events or changes of. */
export async function loadCoverage(portalId: string, now = new Date()): Promise<Coverage> {
  const db = getDb();
  const today = Math.floor(now.getTime() / DAY_MS);
  const firstDay = today - COVERAGE_DAYS + 1;
  const [events, sweeps, runs, backfills] = await Promise.all([
    eventsByType(portalId),
    sweepOnlyByType(portalId, firstDay),
    db.reconcileRun.findMany({ where: { portalId }, select: { entityType: true, lastRunAt: true } }),
    db.backfillRun.findMany({ where: { portalId }, select: { entityType: true } }),
  ]);
  const types = new Map<string, TypeCoverage>();
  const of = (key: string) => {
    let c = types.get(key);
    if (!c) {
      c = {
        entityType: key as EntityKey,
        eventsReceived: 0,
        lastEventAt: null,
        lastSweepAt: null,
        sweepOnly: 0,
        sweepOnlyPerDay: Array<number>(COVERAGE_DAYS).fill(0),
        dead: 0,
      };
      types.set(key, c);
    }
    return c;
  };
  for (const key of [...Object.keys(LEGACY_TYPES), ...backfills.map((b) => b.entityType)]) {
    if (isEntityKey(key)) of(key);
  }
  let dead = 0;
  for (const e of events) {
    dead += e.dead;
    const key = entityTypeOfEvent(e.event, e.typeId);
    if (!key) continue; // app and ONCRMTYPE* events, unknown item types: no type's coverage
    const c = of(key);
    c.eventsReceived += e.received;
    c.dead += e.dead;
    if (!c.lastEventAt || e.lastAt > c.lastEventAt) c.lastEventAt = e.lastAt;
  }
  for (const s of sweeps) {
    if (!isEntityKey(s.entityType)) continue;
    const c = of(s.entityType);
    if (s.total) c.sweepOnly += s.changes;
    else if (s.day !== null && s.day >= firstDay && s.day <= today) c.sweepOnlyPerDay[s.day - firstDay]! += s.changes;
  }
  // The last sweep of a type is its ReconcileRun: written by every sweep of the type as it ends (by the
  // history.reconcile job or not), one primary-key read instead of a scan of the job table's results.
  for (const r of runs) if (isEntityKey(r.entityType) && r.lastRunAt) of(r.entityType).lastSweepAt = r.lastRunAt;
  const list = [...types.values()].sort((a, b) => position(a.entityType) - position(b.entityType));
  return { types: list, dead };
}
