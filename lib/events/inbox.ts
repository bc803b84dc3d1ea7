import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { bumpMetric } from "@/lib/metrics/bump";
import { dispatchEvents } from "@/lib/events/handlers";
import { errorMessage } from "@/lib/error-message";

// Workers drain the inbox: claim a batch with FOR UPDATE SKIP LOCKED (no overlap between processes), hand it to the
// handlers as a whole (CRM events of one portal and entity become one batched fetch), retry each failed row with
// exponential backoff, dead-letter after MAX_ATTEMPTS. Rows of a worker that died go back through its lease
// (lib/jobs/lease.ts). Rows of portals whose work is paused (payment required, disabled) wait without spending
// attempts — no retry storm — for up to MAX_PAUSED_WAIT_MS, then settle as dead. Rows of an uninstalled portal
// settle at once: its tokens are gone, nothing can process them, and a reinstall catches up by a backfill pass.
// Nothing in the inbox waits forever.
export const MAX_ATTEMPTS = 6;
export const MAX_PAUSED_WAIT_MS = 7 * 24 * 3600_000;
/** Rows per claim: enough that a burst of edits becomes a few batched fetches, small enough to settle quickly. */
export const CLAIM_LIMIT = 200;

interface Row {
  id: bigint;
  portalId: string;
  event: string;
  attempts: number;
  receivedAt: Date;
  portalStatus: string;
  source: string;
  payload: { data?: Record<string, unknown> | null; user_id?: string | null; ts?: string | null };
}

async function claim(workerId: string, limit: number): Promise<Row[]> {
  const db = getDb();
  return db.$queryRaw<Row[]>`
    WITH c AS (
      SELECT i.id FROM "EventInbox" i JOIN "Portal" p ON p.id = i."portalId"
      WHERE i.status = 'pending' AND i."nextAttemptAt" <= now() ORDER BY i.id LIMIT ${limit} FOR UPDATE OF i SKIP LOCKED)
    UPDATE "EventInbox" e SET status = 'processing', "lockedAt" = now(), "lockedBy" = ${workerId}, attempts = e.attempts + 1
    FROM c, "Portal" p WHERE e.id = c.id AND p.id = e."portalId"
    RETURNING e.id, e."portalId", e.event, e.payload, e.attempts, e."receivedAt", p.status::text AS "portalStatus",
      e.source`;
}

async function retryOrDeadLetter(row: Row, error: unknown) {
  const db = getDb();
  const message = errorMessage(error);
  bumpMetric(row.portalId, "events.failed");
  if (row.attempts >= MAX_ATTEMPTS) {
    log.warn({ portalId: row.portalId, event: row.event, err: message }, "event dead-lettered");
    return db.eventInbox.update({
      where: { id: row.id },
      data: { status: "dead", lastError: message, lockedBy: null },
    });
  }
  const delayMs = Math.min(3600_000, 5000 * 2 ** (row.attempts - 1)) * (0.75 + Math.random() * 0.5);
  return db.eventInbox.update({
    where: { id: row.id },
    data: { status: "pending", lastError: message, lockedBy: null, nextAttemptAt: new Date(Date.now() + delayMs) },
  });
}

async function settleStopped(row: Row) {
  const db = getDb();
  const uninstalled = row.portalStatus === "uninstalled";
  if (uninstalled || Date.now() - row.receivedAt.getTime() > MAX_PAUSED_WAIT_MS) {
    const lastError = uninstalled ? "portal uninstalled" : `portal ${row.portalStatus} for too long`;
    const data = { status: "dead" as const, lastError, lockedBy: null, processedAt: new Date() };
    return db.eventInbox.update({ where: { id: row.id }, data });
  }
  const later = new Date(Date.now() + 10 * 60_000);
  const data = { status: "pending" as const, attempts: { decrement: 1 }, lockedBy: null, nextAttemptAt: later };
  return db.eventInbox.update({ where: { id: row.id }, data });
}

/** Processes up to `limit` inbox rows; returns how many were claimed. */
export async function processInboxBatch(workerId: string, limit = CLAIM_LIMIT): Promise<number> {
  const rows = await claim(workerId, limit);
  const active = rows.filter((r) => r.portalStatus === "active");
  for (const row of rows.filter((r) => r.portalStatus !== "active")) await settleStopped(row);
  const errors = await dispatchEvents(
    active.map((row) => ({
      portalId: row.portalId,
      event: row.event,
      data: row.payload.data ?? null,
      userId: row.payload.user_id ? Number(row.payload.user_id) : null,
      receivedAt: row.receivedAt,
      source: row.source,
      ts: row.payload.ts ?? null,
    })),
  );
  const done = active.filter((_, i) => !errors[i]);
  if (done.length)
    await getDb().eventInbox.updateMany({
      where: { id: { in: done.map((r) => r.id) } },
      data: { status: "done", processedAt: new Date(), lockedBy: null, lastError: null },
    });
  for (const row of done) bumpMetric(row.portalId, "events.processed");
  for (const [i, row] of active.entries()) if (errors[i]) await retryOrDeadLetter(row, errors[i]);
  return rows.length;
}
