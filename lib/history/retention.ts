import "server-only";
import { getDb } from "@/lib/db";

// Retention (issue #17): a portal keeps its change history forever unless its admin chose 1, 2 or 5 years. The hourly
// job `history.retention` deletes what is older, oldest first, in small batches — each its own short statement on
// the (portalId, changedAt) index, so no long lock holds capture or the tab — and stops after `budgetMs` or when the
// worker stops, queueing nothing: the next day's run (or the next slice the schedule gives it) goes on from there.
export const RETENTION_YEARS = [1, 2, 5] as const;
export type RetentionYears = (typeof RETENTION_YEARS)[number];
export const RETENTION_BATCH = 5_000;

/** The instant before which changes go: `years` calendar years before `now`, in UTC. */
export function retentionCutoff(years: number, now = new Date()): Date {
  const cut = new Date(now);
  cut.setUTCFullYear(cut.getUTCFullYear() - years);
  return cut;
}

export interface RetentionReport {
  cutoff: string;
  deleted: number;
  complete: boolean;
}

/** Job `history.retention`: deletes the portal's changes older than its retention, a batch at a time. */
export async function runRetention(
  portalId: string,
  opts: { batch?: number; budgetMs?: number; signal?: AbortSignal; now?: Date } = {},
): Promise<RetentionReport | "forever"> {
  const db = getDb();
  const portal = await db.portal.findUnique({ where: { id: portalId }, select: { retentionYears: true } });
  if (!portal?.retentionYears) return "forever";
  const cutoff = retentionCutoff(portal.retentionYears, opts.now);
  const batch = opts.batch ?? RETENTION_BATCH;
  const started = Date.now();
  let deleted = 0;
  for (;;) {
    const n = await db.$executeRaw`
      DELETE FROM "FieldChange" WHERE id IN (
        SELECT id FROM "FieldChange" WHERE "portalId" = ${portalId} AND "changedAt" < ${cutoff}
        ORDER BY "changedAt" LIMIT ${batch})`;
    deleted += n;
    if (n < batch) return { cutoff: cutoff.toISOString(), deleted, complete: true };
    if (opts.signal?.aborted || Date.now() - started > (opts.budgetMs ?? 20_000)) {
      return { cutoff: cutoff.toISOString(), deleted, complete: false };
    }
  }
}
