import "server-only";
import { getDb } from "@/lib/db";
import { entityTypeIdOf, updateEventsOf, type EntityKey } from "@/lib/history/entity-types";

// What a person expects to see right after acting (issue #16 item 5): the change they reverted marked as reverted,
// and an edit saved seconds ago shown as "updating…" while its event still waits in our inbox.

interface Undoable {
  id: bigint;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  changedAt: Date;
  source?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The changes of this page that a later revert undid: revertChange (lib/history/revert.ts) records a revert as the
 * change turned around — its new value as the old one, its old value as the new one, source "revert".
 */
export async function revertedChanges(
  portalId: string,
  entityType: string,
  entityId: number,
  changes: Undoable[],
): Promise<Set<string>> {
  const candidates = changes.filter((c) => c.source !== "revert");
  if (!candidates.length) return new Set();
  const since = new Date(Math.min(...candidates.map((c) => c.changedAt.getTime())));
  const reverts = await getDb().fieldChange.findMany({
    where: {
      portalId,
      entityType,
      entityId,
      source: "revert",
      field: { in: [...new Set(candidates.map((c) => c.field))] },
      changedAt: { gte: since },
    },
    select: { field: true, oldValue: true, newValue: true, changedAt: true },
    orderBy: [{ changedAt: "asc" }, { id: "asc" }],
    take: 500,
  });
  const undone = (c: Undoable) =>
    reverts.some(
      (r) =>
        r.field === c.field &&
        r.changedAt >= c.changedAt &&
        same(r.oldValue, c.newValue) &&
        same(r.newValue, c.oldValue),
    );
  return new Set(candidates.filter(undone).map((c) => String(c.id)));
}

/**
 * Whether an update of this record is still waiting in the inbox (pending, or claimed and being read): the edit a
 * person just saved is on its way into the history. An item's events carry its type too (ONCRMDYNAMICITEMUPDATE
 * of item 1 of type 128 and of type 31 are two records).
 */
export async function editInFlight(portalId: string, entityType: string, entityId: number): Promise<boolean> {
  const events = updateEventsOf(entityType as EntityKey);
  const typeId = events.includes("ONCRMDYNAMICITEMUPDATE") ? String(entityTypeIdOf(entityType)) : null;
  const rows = await getDb().$queryRaw<{ one: number }[]>`SELECT 1 AS one FROM "EventInbox"
    WHERE "portalId" = ${portalId} AND status IN ('pending', 'processing') AND event = ANY(${events}::text[])
      AND payload->'data'->'FIELDS'->>'ID' = ${String(entityId)}
      AND (${typeId}::text IS NULL OR payload->'data'->'FIELDS'->>'ENTITY_TYPE_ID' = ${typeId}::text)
    LIMIT 1`;
  return rows.length > 0;
}
