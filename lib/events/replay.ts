import "server-only";
import { z } from "zod";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { log } from "@/lib/log";

// Replay of dead-lettered inbox rows: the admin page's "Replay" and `npm run replay -- <portal>` put a portal's dead
// rows (lib/events/inbox.ts: MAX_ATTEMPTS failures, or a portal paused for too long) back in the queue as if just
// received — pending, attempts 0, due now — so the worker gives each its full set of retries again.
// lastError is kept: until a worker takes the row it still says why the row died; processing clears it (done) or
// overwrites it (failed again).
//
// Once per row: one conditional UPDATE ... WHERE status = 'dead' RETURNING. Of two admins pressing Replay at once,
// the second UPDATE waits on the first's row locks, re-reads each row (READ COMMITTED), finds it pending and leaves
// it: every row is moved, and counted, by exactly one of them.
//
// A replayed row records its change once: the worker reads the record and diffs it against its snapshot
// (lib/history/snapshots.ts), so what a sweep or a later event recorded meanwhile diffs to nothing.

export interface ReplayReport {
  replayed: number;
  ids: bigint[];
}

/** Moves the portal's dead rows (all of them, or those of `ids` that are the portal's and dead) back to pending. */
export async function replayDeadEvents(portalId: string, ids?: bigint[]): Promise<ReplayReport> {
  const only = ids ? ids.map(String) : null;
  const rows = await getDb().$queryRaw<{ id: bigint }[]>`
    UPDATE "EventInbox" SET status = 'pending', attempts = 0, "nextAttemptAt" = now() AT TIME ZONE 'UTC',
      "lockedAt" = NULL, "lockedBy" = NULL, "processedAt" = NULL
    WHERE "portalId" = ${portalId} AND status = 'dead'
      AND (${only}::text[] IS NULL OR id = ANY(${only}::text[]::bigint[]))
    RETURNING id`;
  if (rows.length) log.info({ portalId, replayed: rows.length }, "dead-lettered events replayed");
  return { replayed: rows.length, ids: rows.map((r) => r.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** The admin route's body: `{}` replays every dead row of the portal, `{ids}` those rows (inbox ids as strings). */
export const ReplayBodySchema = z.object({
  ids: z
    .array(z.string().regex(/^[1-9]\d{0,17}$/, "must be an inbox row id"))
    .min(1)
    .max(1000)
    .optional(),
});

/** The body's text as its schema reads it; an empty body is `{}`, text that is not JSON is a 400 (not "replay all"). */
export function parseReplayBody(text: string): bigint[] | undefined {
  let json: unknown = {};
  try {
    if (text.trim()) json = JSON.parse(text);
  } catch {
    throw new AppError(400, "invalid_request", 'The body is not JSON: send {} or {"ids": ["<inbox row id>", ...]}');
  }
  return ReplayBodySchema.parse(json).ids?.map(BigInt);
}
