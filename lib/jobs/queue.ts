import "server-only";
import { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";
import { sleep } from "@/lib/sleep";

// The durable job queue: rows claimed with FOR UPDATE SKIP LOCKED, so any number of worker processes share one
// Postgres without overlap. dedupeKey makes one-off work (lifecycle callbacks, scheduled ticks) run once.

export interface JobRow {
  id: bigint;
  portalId: string | null;
  kind: string;
  payload: Prisma.JsonValue;
  attempts: number;
}

export async function enqueueJob(
  kind: string,
  opts: { portalId?: string | null; payload?: object; dedupeKey?: string; runAt?: Date } = {},
): Promise<boolean> {
  try {
    await getDb().job.create({
      data: {
        kind,
        portalId: opts.portalId ?? null,
        payload: (opts.payload ?? {}) as object,
        dedupeKey: opts.dedupeKey,
        runAt: opts.runAt ?? new Date(),
      },
    });
    return true;
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") return false; // already queued
    throw e;
  }
}

/**
 * Queues `kind` for the portal at `runAt` unless one is already waiting to start in `waiting` — by default any time up
 * to `runAt`: a burst of triggers becomes one run, and a trigger that arrives while a run is under way still gets a
 * run after it (a time-window dedupe key would drop it until the next scheduled poll). A look that must come *after* a
 * moment passes a window around it instead, so that a run due well before it does not stand in for it
 * (lib/events/offline.ts onOfflineNotification). Returns whether a job was queued.
 */
export async function enqueueUnlessWaiting(
  kind: string,
  portalId: string,
  runAt = new Date(),
  waiting: { from: Date; until: Date } = { from: new Date(0), until: runAt },
): Promise<boolean> {
  const inserted = await getDb().$executeRaw`
    INSERT INTO "Job" (kind, "portalId", "runAt") SELECT ${kind}, ${portalId}, ${runAt}
    WHERE NOT EXISTS (SELECT 1 FROM "Job" WHERE kind = ${kind} AND "portalId" = ${portalId} AND status = 'pending'
      AND "runAt" >= ${waiting.from} AND "runAt" <= ${waiting.until})`;
  return inserted > 0;
}

/**
 * Runs `work` once per dedupeKey across all processes; duplicates wait for (and share) the first one's result.
 * A failed run leaves no row behind (a flood of forged callbacks writes nothing); a duplicate that was waiting on it
 * then runs the work itself and meets the same refusal.
 */
export async function runOnce<T>(
  dedupeKey: string,
  portalId: string | null,
  work: () => Promise<T>,
  waitMs = 60_000,
): Promise<T> {
  const db = getDb();
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await enqueueJob("inline", { dedupeKey, portalId, payload: {} })) {
      await db.job.update({ where: { dedupeKey }, data: { status: "running", lockedAt: new Date() } });
      try {
        const result = await work();
        await db.job.update({
          where: { dedupeKey },
          data: { status: "done", result: (result ?? null) as object, finishedAt: new Date() },
        });
        return result;
      } catch (e) {
        await db.job.deleteMany({ where: { dedupeKey } });
        throw e;
      }
    }
    const row = await db.job.findUnique({ where: { dedupeKey } });
    if (row?.status === "done") return row.result as T;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${dedupeKey}`);
}

/**
 * Work that keeps the history current (the offline queue's drain, a confirmed uninstall) runs in the capture lane,
 * beside the inbox; everything else (backfills, sweeps, stage history, watch-rule notifications, probes, keep-alives,
 * pruning) in the background lane, so one portal's long backfill never stands in front of any portal's capture
 * (docs/architecture.md "Lanes").
 */
export const CAPTURE_JOB_KINDS = ["offline.drain", "lifecycle.uninstall"] as const;
export type JobLane = "capture" | "background" | "any";

/**
 * Claims up to `limit` runnable jobs of `lane`. The background lane is fair between portals: at most one job per
 * portal per claim, none for a portal that already has background work running, the portal waiting longest first —
 * a portal's backfill continues by queueing its next slice behind the others' waiting work (lib/history/backfill.ts).
 */
export async function claimJobs(workerId: string, limit = 5, lane: JobLane = "any"): Promise<JobRow[]> {
  const capture = Prisma.join([...CAPTURE_JOB_KINDS]);
  if (lane === "background") {
    return getDb().$queryRaw<JobRow[]>`
      UPDATE "Job" SET status = 'running', "lockedAt" = now(), "lockedBy" = ${workerId}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM "Job" WHERE id IN (
          SELECT DISTINCT ON ("portalId") j.id FROM "Job" j
          WHERE j.status = 'pending' AND j.kind <> 'inline' AND j.kind NOT IN (${capture}) AND j."runAt" <= now()
            AND NOT EXISTS (SELECT 1 FROM "Job" r WHERE r.status = 'running' AND r."portalId" = j."portalId"
              AND r.kind <> 'inline' AND r.kind NOT IN (${capture}))
          ORDER BY j."portalId", j."runAt", j.id)
        AND status = 'pending'
        ORDER BY "runAt", id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id, "portalId", kind, payload, attempts`;
  }
  const kinds = lane === "capture" ? Prisma.sql`AND kind IN (${capture})` : Prisma.empty;
  return getDb().$queryRaw<JobRow[]>`
    UPDATE "Job" SET status = 'running', "lockedAt" = now(), "lockedBy" = ${workerId}, attempts = attempts + 1
    WHERE id IN (SELECT id FROM "Job" WHERE status = 'pending' AND kind <> 'inline' ${kinds} AND "runAt" <= now()
      ORDER BY "runAt", id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, "portalId", kind, payload, attempts`;
}

export async function finishJob(
  id: bigint,
  outcome: { ok: true; result?: unknown } | { ok: false; error: string; retryInMs?: number },
) {
  const data = outcome.ok
    ? { status: "done", result: (outcome.result ?? null) as object, finishedAt: new Date(), lockedBy: null }
    : outcome.retryInMs !== undefined
      ? { status: "pending", lastError: outcome.error, runAt: new Date(Date.now() + outcome.retryInMs), lockedBy: null }
      : { status: "dead", lastError: outcome.error, finishedAt: new Date(), lockedBy: null };
  await getDb().job.update({ where: { id }, data });
}

/** Jobs whose worker died mid-run (their lease was not renewed, lib/jobs/lease.ts) go back to the queue. */
export async function requeueStaleJobs(olderThanMs: number) {
  await getDb()
    .$executeRaw`UPDATE "Job" SET status = 'pending', "lockedBy" = NULL WHERE status = 'running' AND kind <> 'inline' AND "lockedAt" < now() - make_interval(secs => ${olderThanMs / 1000})`;
}

/** Long background work in a worker's lane passes yieldToCapture: true (lib/composition/registry.ts); tests and
 * benches that drive it by hand, with no capture lane running, do not wait for capture work nobody will do. */
export interface BackgroundOptions {
  yieldToCapture?: boolean;
}

/** Capture work older than this is "behind": the background lanes give it the machine (yieldToCapture). */
export const CAPTURE_BEHIND_MS = 500;
/** However far capture is behind, a background job still takes a step this often (it must finish some day). */
export const BACKGROUND_MIN_STEP_MS = 10_000;

/**
 * Whether capture work — runnable capture-lane jobs, inbox rows — has waited longer than CAPTURE_BEHIND_MS. Both are
 * read as tables here (the inbox is lib/events', but its rows are this lane's queue), on their (status, time) indexes.
 */
export async function captureIsBehind(): Promise<boolean> {
  const capture = Prisma.join([...CAPTURE_JOB_KINDS]);
  // the database's clock, as claimJobs and processInboxBatch judge "runnable" by it
  const rows = await getDb().$queryRaw<{ behind: boolean }[]>`
    WITH t AS (SELECT now() - make_interval(secs => ${CAPTURE_BEHIND_MS / 1000}) AS behind)
    SELECT EXISTS (SELECT 1 FROM "Job", t WHERE status = 'pending' AND kind IN (${capture}) AND "runAt" <= t.behind)
      OR EXISTS (SELECT 1 FROM "EventInbox", t WHERE status = 'pending' AND "nextAttemptAt" <= t.behind) AS behind`;
  return rows[0]?.behind === true;
}

/**
 * Called by long background work (a backfill, a sweep) between its steps: while capture is behind, it waits — in
 * whatever process it runs, since the lanes share one database and, on a small machine, the same cores — so one
 * portal's million-record backfill cannot slow every portal's capture (issue #15 item 5). At most
 * BACKGROUND_MIN_STEP_MS after `lastStepAt`, so the background still moves when capture never catches up.
 */
export async function yieldToCapture(lastStepAt: number, signal?: AbortSignal): Promise<void> {
  while (Date.now() - lastStepAt < BACKGROUND_MIN_STEP_MS && !signal?.aborted && (await captureIsBehind())) {
    await sleep(500, signal).catch(() => undefined);
  }
}
