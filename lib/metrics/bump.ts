import "server-only";
import { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { flushAuthFailures } from "@/lib/metrics/auth-failures";

// Per-portal, per-minute counters the admin page charts and /api/metrics exports. Counting is in memory and flushed
// once a second in one statement: an upsert per event would make every request of every process wait on the same
// row lock ("events.received" of this minute), which capped ingestion at a third of a bare route. Best effort: a
// failed flush never fails the work it counts, and a process killed mid-second loses at most that second's counts.
export const FLUSH_MS = 1000;

interface Pending {
  portalId: string | null;
  name: string;
  minute: Date;
  value: number;
}
const pending = new Map<string, Pending>();
let timer: NodeJS.Timeout | null = null;

function add(portalId: string | null, name: string, by: number) {
  const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const key = `${portalId ?? ""}\u0000${name}\u0000${portalId ? minute.getTime() : ""}`;
  const row = pending.get(key);
  if (row) row.value += by;
  else pending.set(key, { portalId, name, minute, value: by });
  if (!timer) {
    timer = setTimeout(() => void flushMetrics(), FLUSH_MS);
    timer.unref();
  }
}

export function bumpMetric(portalId: string, name: string, by = 1): void {
  add(portalId, name, by);
}

/** Counters with no portal (unknown portals, malformed auth) go to GlobalCounter. */
export function bumpGlobal(name: string, by = 1): void {
  add(null, name, by);
}

let flushing: Promise<void> = Promise.resolve();

/**
 * Writes what was counted so far, after any flush already under way in this process: a flush that took the pending
 * rows and still waits on the database would otherwise let a second call return before those rows are written (a
 * worker's last flush at stop, a test reading its counter; found as a CI flake of lifecycle-events.test.ts). Rows are
 * sorted so concurrent flushes of several processes cannot deadlock.
 */
export function flushMetrics(): Promise<void> {
  const next = flushing.then(writePending);
  flushing = next.catch(() => undefined);
  return next;
}

async function writePending(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  const rows = [...pending.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  pending.clear();
  const perPortal = rows.filter((r) => r.portalId !== null);
  const global = rows.filter((r) => r.portalId === null);
  const db = getDb();
  try {
    // Joined with Portal: counts of a portal purged meanwhile (uninstall with CLEAN=1) are dropped, not an error.
    if (perPortal.length)
      await db.$executeRaw`
      INSERT INTO "MetricSample" ("portalId", name, minute, value)
      SELECT v.p, v.n, v.m, v.v FROM (VALUES ${Prisma.join(perPortal.map((r) => Prisma.sql`(${r.portalId}, ${r.name}, ${r.minute.toISOString().slice(0, -1)}::timestamp, ${r.value}::float8)`))}) AS v(p, n, m, v)
      JOIN "Portal" ON "Portal".id = v.p
      ON CONFLICT ("portalId", name, minute) DO UPDATE SET value = "MetricSample".value + EXCLUDED.value`;
    if (global.length)
      await db.$executeRaw`
      INSERT INTO "GlobalCounter" (name, value, "updatedAt")
      VALUES ${Prisma.join(global.map((r) => Prisma.sql`(${r.name}, ${BigInt(r.value)}, now())`))}
      ON CONFLICT (name) DO UPDATE SET value = "GlobalCounter".value + EXCLUDED.value, "updatedAt" = now()`;
  } catch (err) {
    log.debug({ err, rows: rows.length }, "metrics not recorded");
  }
  await flushAuthFailures();
}
