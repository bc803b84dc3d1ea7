import "server-only";
import { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";

// The tab's query: newest first, keyset-paginated on (changedAt, id) so page N costs the same as page 1, filterable by
// field and by user; served by the index (portalId, entityType, entityId, changedAt DESC, id DESC).
export interface HistoryQuery {
  entityType: string;
  entityId: number;
  field?: string;
  userId?: number;
  cursor?: string;
  limit?: number;
  /** the period: changes at or after `from`, before `to` */
  from?: Date;
  to?: Date;
  /** where the changes were learnt (FieldChange.source) */
  sources?: string[];
}

export function encodeCursor(changedAt: Date, id: bigint): string {
  return Buffer.from(`${changedAt.toISOString()}|${id}`).toString("base64url");
}

/** The (changedAt, id) a cursor of encodeCursor names, or null for a missing or malformed one. */
export function decodeCursor(cursor: string | undefined): { changedAt: Date; id: bigint } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const changedAt = new Date(at ?? "");
  if (Number.isNaN(changedAt.getTime()) || !/^\d+$/.test(id ?? "")) return null;
  return { changedAt, id: BigInt(id!) };
}

const recordWhere = (portalId: string, q: HistoryQuery) => ({
  portalId,
  entityType: q.entityType,
  entityId: q.entityId,
  ...(q.field ? { field: q.field } : {}),
  ...(q.userId ? { changedById: q.userId } : {}),
  ...(q.sources ? { source: { in: q.sources } } : {}),
  // In AND: the cursor's own bound on changedAt must not replace the period's.
  AND: [...(q.from ? [{ changedAt: { gte: q.from } }] : []), ...(q.to ? [{ changedAt: { lt: q.to } }] : [])],
});

export async function queryHistory(portalId: string, q: HistoryQuery) {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
  const after = decodeCursor(q.cursor);
  const rows = await getDb().fieldChange.findMany({
    where: {
      ...recordWhere(portalId, q),
      // The OR alone is only a filter: PostgreSQL would read every newer row first. The bound on changedAt lets the
      // index start at the cursor, so page N costs what page 1 does.
      ...(after
        ? {
            changedAt: { lte: after.changedAt },
            OR: [{ changedAt: { lt: after.changedAt } }, { changedAt: after.changedAt, id: { lt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ changedAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next: rows.length > limit && last ? encodeCursor(last.changedAt, last.id) : null };
}

/** How many changes match (the tab shows "N changes" next to its pages). */
export function countHistory(portalId: string, q: HistoryQuery): Promise<number> {
  return getDb().fieldChange.count({ where: recordWhere(portalId, q) });
}

/**
 * The fields and users that occur in one record's history: the options of the tab's filters. Read as a skip scan —
 * one probe of the (…, field) and (…, changedById) indexes per distinct value — instead of grouping every change of
 * the record (a record with 10 000 changes has a few dozen fields and users).
 */
export async function historyFacets(
  portalId: string,
  entityType: string,
  entityId: number,
): Promise<{ fields: string[]; users: number[] }> {
  const [fields, users] = await Promise.all([
    distinctOnRecord<string>("field", portalId, entityType, entityId),
    distinctOnRecord<number>("changedById", portalId, entityType, entityId),
  ]);
  return { fields, users: users.map(Number) };
}

/** The distinct non-null values of one column among a record's changes, ascending: a recursive CTE, a probe each. */
async function distinctOnRecord<T>(
  column: "field" | "changedById",
  portalId: string,
  entityType: string,
  entityId: number,
): Promise<T[]> {
  const col = Prisma.raw(`"${column}"`);
  const onRecord = Prisma.sql`"portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} AND ${col} IS NOT NULL`;
  const rows = await getDb().$queryRaw<{ v: T }[]>`WITH RECURSIVE d(v) AS (
      (SELECT ${col} FROM "FieldChange" WHERE ${onRecord} ORDER BY ${col} LIMIT 1)
      UNION ALL
      SELECT (SELECT ${col} FROM "FieldChange" WHERE ${onRecord} AND ${col} > d.v ORDER BY ${col} LIMIT 1) FROM d WHERE d.v IS NOT NULL)
    SELECT v FROM d WHERE v IS NOT NULL`;
  return rows.map((r) => r.v);
}
