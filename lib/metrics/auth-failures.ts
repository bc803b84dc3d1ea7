import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

// Refused requests for portals we know (a wrong application_token, a frame's APPLICATION_TOKEN of another install).
// Anyone who knows a customer's member_id can send them, so one row per request let 1 500 forged events add 1 500
// rows. Now a refusal adds 1 to its row of (portal, reason, route, minute): a flood grows a counter, and the table
// holds at most one row per portal, reason, route and minute of the last RETENTION_MS (pruned on insert).
// One statement per row at a time in a process: refusals arriving while it runs are added by its next statement, so a
// flood queues no connections on the row's lock.
export const RETENTION_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

const writing = new Map<string, { extra: number; done: Promise<void> }>();
let lastPrune = 0;

async function upsert(portalId: string, reason: string, route: string, minute: Date, by: number) {
  // Joined with Portal: a refusal for a portal purged meanwhile (uninstall with CLEAN=1) is dropped, not an error.
  await getDb().$executeRaw`
    INSERT INTO "AuthFailure" ("portalId", reason, route, minute, count)
    SELECT id, ${reason}, ${route}, ${minute.toISOString().slice(0, -1)}::timestamp, ${by}
    FROM "Portal" WHERE id = ${portalId}
    ON CONFLICT ("portalId", reason, route, minute) DO UPDATE SET count = "AuthFailure".count + EXCLUDED.count`;
}

/** Rows older than the retention go; runs at most once an hour per process, from the insert path. */
export async function pruneAuthFailures(now = Date.now()): Promise<number> {
  lastPrune = now;
  return getDb().$executeRaw`
    DELETE FROM "AuthFailure" WHERE minute < ${new Date(now - RETENTION_MS).toISOString().slice(0, -1)}::timestamp`;
}

/** Counts one refusal. Best effort: failing to count never turns the refusal (a 401) into a 500. */
export async function recordAuthFailure(portalId: string, reason: string, route: string): Promise<void> {
  const now = Date.now();
  const minute = new Date(Math.floor(now / 60_000) * 60_000);
  const key = `${portalId}\u0000${reason}\u0000${route}\u0000${minute.getTime()}`;
  const running = writing.get(key);
  if (running) {
    running.extra++;
    return;
  }
  const state = { extra: 0, done: Promise.resolve() };
  writing.set(key, state);
  state.done = (async () => {
    try {
      let by = 1;
      while (by > 0) {
        await upsert(portalId, reason, route, minute, by);
        [by, state.extra] = [state.extra, 0];
      }
      writing.delete(key); // no await since the last look at `extra`: nothing counted is left behind
      if (now - lastPrune > PRUNE_EVERY_MS) await pruneAuthFailures(now);
    } catch (err) {
      log.debug({ err }, "auth failure not recorded");
    } finally {
      if (writing.get(key) === state) writing.delete(key);
    }
  })();
  await state.done;
}

/** Waits for the counts still being written (refusals answered while another request's statement was running). */
export async function flushAuthFailures(): Promise<void> {
  await Promise.all([...writing.values()].map((w) => w.done));
}

/** Refusals per minute of one portal since `since`, for the admin page's chart. */
export async function authFailuresPerMinute(portalId: string, since: Date): Promise<{ minute: Date; value: number }[]> {
  const rows = await getDb().authFailure.findMany({
    where: { portalId, minute: { gte: since } },
    select: { minute: true, count: true },
  });
  return rows.map((r) => ({ minute: r.minute, value: r.count }));
}
