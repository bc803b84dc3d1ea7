import "server-only";
import { getDb } from "@/lib/db";

// The tab's query: newest first, keyset-paginated on (changedAt, id) so page N costs the same as page 1, filterable by
// field and by user; served by the index (portalId, entityType, entityId, changedAt DESC, id DESC).
export interface HistoryQuery { entityType: string; entityId: number; field?: string; userId?: number; cursor?: string; limit?: number }

export function encodeCursor(changedAt: Date, id: bigint): string {
  return Buffer.from(`${changedAt.toISOString()}|${id}`).toString("base64url");
}

function decodeCursor(cursor: string | undefined): { changedAt: Date; id: bigint } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const changedAt = new Date(at ?? "");
  if (Number.isNaN(changedAt.getTime()) || !/^\d+$/.test(id ?? "")) return null;
  return { changedAt, id: BigInt(id!) };
}

export async function queryHistory(portalId: string, q: HistoryQuery) {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
  const after = decodeCursor(q.cursor);
  const rows = await getDb().fieldChange.findMany({
    where: {
      portalId, entityType: q.entityType, entityId: q.entityId,
      ...(q.field ? { field: q.field } : {}),
      ...(q.userId ? { changedById: q.userId } : {}),
      ...(after ? { OR: [{ changedAt: { lt: after.changedAt } }, { changedAt: after.changedAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ changedAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next: rows.length > limit && last ? encodeCursor(last.changedAt, last.id) : null };
}
