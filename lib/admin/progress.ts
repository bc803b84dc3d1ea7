import "server-only";
import { getDb } from "@/lib/db";

// Long work the admin page follows live: the history backfill per entity, and the event queue draining (the inbox
// of the last hour: processed vs still waiting). Scoped by the session's portal.
export interface WorkProgress {
  backfill: { entityType: string; status: string; processed: number; total: number | null }[];
  queue: { done: number; waiting: number; dead: number; oldestWaitingAt: string | null };
  active: boolean;
}

export async function loadProgress(portalId: string): Promise<WorkProgress> {
  const db = getDb();
  const since = new Date(Date.now() - 3600_000);
  const [runs, inbox, oldest] = await Promise.all([
    db.backfillRun.findMany({ where: { portalId }, orderBy: { entityType: "asc" } }),
    db.eventInbox.groupBy({ by: ["status"], where: { portalId, receivedAt: { gte: since } }, _count: { _all: true } }),
    db.eventInbox.findFirst({
      where: { portalId, status: { in: ["pending", "processing"] } },
      orderBy: { receivedAt: "asc" },
      select: { receivedAt: true },
    }),
  ]);
  const count = (...statuses: string[]) =>
    inbox.filter((r) => statuses.includes(r.status)).reduce((n, r) => n + r._count._all, 0);
  const backfill = runs.map((r) => ({
    entityType: r.entityType,
    status: r.status,
    processed: r.processed,
    total: r.total,
  }));
  const queue = {
    done: count("done"),
    waiting: count("pending", "processing"),
    dead: count("dead"),
    oldestWaitingAt: oldest?.receivedAt.toISOString() ?? null,
  };
  return { backfill, queue, active: queue.waiting > 0 || backfill.some((b) => b.status !== "done") };
}
