import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { requeueStaleJobs } from "@/lib/jobs/queue";

// Leases on claimed work. A worker killed mid-batch (SIGKILL, OOM, a lost VM) leaves its inbox rows 'processing'
// and its jobs 'running'; without a lease they wait for the 5-minute stale timeout of the claim, and a batch that
// legitimately runs longer than that is claimed twice. Instead, while a worker works it renews the lease of what it
// holds every HEARTBEAT_MS (lockedAt = now()), and any worker takes back rows and jobs whose lease has not been
// renewed for LEASE_MS. The lease is renewed only while a batch is running: rows a failed batch left behind (its
// settle failed in a database outage) expire too instead of being kept alive forever.
// A reclaimed row runs again; that is safe because every effect is idempotent (the history diff against the locked
// snapshot records a change once, offline events enter the inbox by a unique key).
export const HEARTBEAT_MS = 3_000;
/** Five missed heartbeats: long enough for a stalled event loop or a slow database, short next to 5 minutes. */
export const LEASE_MS = 15_000;

let lastReclaimAt = 0;

async function renew(workerId: string) {
  const db = getDb();
  await db.$executeRaw`UPDATE "EventInbox" SET "lockedAt" = now() WHERE status = 'processing' AND "lockedBy" = ${workerId}`;
  await db.$executeRaw`UPDATE "Job" SET "lockedAt" = now() WHERE status = 'running' AND "lockedBy" = ${workerId}`;
}

/** Puts rows and jobs whose lease expired back in the queue (at most once per HEARTBEAT_MS per process). */
export async function reclaimExpired(): Promise<number> {
  if (Date.now() - lastReclaimAt < HEARTBEAT_MS) return 0;
  lastReclaimAt = Date.now();
  const rows = await getDb().$executeRaw`
    UPDATE "EventInbox" SET status = 'pending', "lockedBy" = NULL
    WHERE status = 'processing' AND "lockedAt" < now() - make_interval(secs => ${LEASE_MS / 1000})`;
  await requeueStaleJobs(LEASE_MS);
  if (rows) log.warn({ rows }, "reclaimed inbox rows whose worker stopped renewing its lease");
  return rows;
}

/**
 * Renews `workerId`'s leases every HEARTBEAT_MS until the returned timer is cleared: for work that outlives one
 * underLease batch (the capture lane's jobs run as a pool across its rounds, lib/composition/run-worker.ts).
 */
export function keepLeased(workerId: string): ReturnType<typeof setInterval> {
  let renewing: Promise<void> | null = null;
  const timer = setInterval(() => {
    renewing ??= renew(workerId)
      .catch((err: unknown) => log.debug({ err }, "lease not renewed"))
      .finally(() => {
        renewing = null;
      });
  }, HEARTBEAT_MS);
  timer.unref();
  return timer;
}

/** Runs one batch of `workerId`'s work under a renewed lease, after taking back expired ones. */
export async function underLease<T>(workerId: string, work: () => Promise<T>): Promise<T> {
  await reclaimExpired();
  const timer = keepLeased(workerId);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
