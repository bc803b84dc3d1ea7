import "server-only";
import type { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";
import { decodeCursor, encodeCursor } from "@/lib/history/query";

// A search over one portal's whole history (the JSON API, docs/api.md): by record, type, field, person, source and
// period, newest first, keyset-paginated on (changedAt, id) like the tab. With a record it runs on the record's
// index; otherwise on (portalId, changedAt), bounded by the period.
export interface ChangeSearch {
  entityType?: string;
  entityId?: number;
  field?: string;
  userId?: number;
  source?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit?: number;
}

/** A stored change as plain JSON facts (the JSON API's items, a watch rule's delivery): the instant as ISO 8601. */
export interface ChangeFactsOf {
  entityType: string;
  entityId: number;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  changedById: number | null;
  changedAt: Date;
}
export function changeFacts(c: ChangeFactsOf) {
  return {
    entityType: c.entityType,
    entityId: c.entityId,
    field: c.field,
    oldValue: c.oldValue,
    newValue: c.newValue,
    changedById: c.changedById,
    changedAt: c.changedAt.toISOString(),
  };
}

/** Whether `cursor` is one this search handed out (a bad one is the caller's error, not "from the start"). */
export function isValidCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== null;
}

/** The rows a search matches from its cursor on: the one WHERE of the JSON API and the audit page. */
export function changeWhere(portalId: string, q: Omit<ChangeSearch, "limit">): Prisma.FieldChangeWhereInput {
  const after = decodeCursor(q.cursor);
  const changedAt: Prisma.DateTimeFilter = {};
  if (q.since) changedAt.gte = q.since;
  if (q.until) changedAt.lt = q.until;
  // The bound on changedAt lets the index start at the cursor; the OR alone would only filter (lib/history/query.ts).
  if (after) changedAt.lte = after.changedAt;
  return {
    portalId,
    ...(q.entityType ? { entityType: q.entityType } : {}),
    ...(q.entityId !== undefined ? { entityId: q.entityId } : {}),
    ...(q.field ? { field: q.field } : {}),
    ...(q.userId !== undefined ? { changedById: q.userId } : {}),
    ...(q.source ? { source: q.source } : {}),
    ...(Object.keys(changedAt).length ? { changedAt } : {}),
    ...(after
      ? { OR: [{ changedAt: { lt: after.changedAt } }, { changedAt: after.changedAt, id: { lt: after.id } }] }
      : {}),
  };
}

export async function searchChanges(portalId: string, q: ChangeSearch) {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 500);
  const where = changeWhere(portalId, q);
  const rows = await getDb().fieldChange.findMany({
    where,
    orderBy: [{ changedAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next: rows.length > limit && last ? encodeCursor(last.changedAt, last.id) : null };
}
