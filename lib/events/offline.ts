import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { bumpMetric } from "@/lib/metrics/bump";
import { enqueueUnlessWaiting } from "@/lib/jobs/queue";
import { AUTH_CONNECTOR, OFFLINE_NOTIFY_MIN_TIMEOUT_S } from "@/lib/lifecycle/registry";

// The seed's safe offline flow: event.offline.get clear=0 → persist (inbox, deduplicated) → event.offline.clear by
// process_id and ids → event.offline.error for items we could not take. The claim row is written before anything is
// processed, so a crash between get and clear loses nothing: the batch is re-read by its process_id. Bitrix24 hands
// parallel callers disjoint batches, so several workers drain one portal without overlap.

interface OfflineEvent { ID: string; EVENT_NAME: string; EVENT_DATA: unknown; EVENT_ADDITIONAL?: { user_id?: string } | false; MESSAGE_ID: string }
interface OfflineBatch { process_id: string | null; events: OfflineEvent[] }
const BATCH = 50;
export interface DrainReport { batches: number; events: number; errors: number; resumed: number }

async function persist(portalId: string, events: OfflineEvent[]): Promise<{ ok: OfflineEvent[]; failed: OfflineEvent[] }> {
  const ok: OfflineEvent[] = [];
  const failed: OfflineEvent[] = [];
  for (const e of events) {
    try {
      if (!/^[A-Z0-9_]+$/i.test(e.EVENT_NAME) || String(e.MESSAGE_ID).length !== 32) throw new Error("malformed offline record");
      const data = e.EVENT_DATA && typeof e.EVENT_DATA === "object" ? (e.EVENT_DATA as Prisma.InputJsonValue) : null;
      const userId = e.EVENT_ADDITIONAL && e.EVENT_ADDITIONAL.user_id !== "0" ? e.EVENT_ADDITIONAL.user_id ?? null : null;
      await getDb().eventInbox.create({ data: { portalId, event: e.EVENT_NAME.toUpperCase(), source: "offline", idempotencyKey: `offline:${e.MESSAGE_ID}:${e.ID}`, payload: { data, ts: null, user_id: userId } } });
      ok.push(e);
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") ok.push(e); // already stored
      else failed.push(e);
    }
  }
  return { ok, failed };
}

async function settleBatch(client: BitrixClient, portalId: string, processId: string, events: OfflineEvent[]) {
  const { ok, failed } = await persist(portalId, events);
  if (failed.length) await client.call("event.offline.error", { process_id: processId, message_id: failed.map((e) => e.MESSAGE_ID), auth_connector: AUTH_CONNECTOR });
  if (ok.length) await client.call("event.offline.clear", { process_id: processId, id: ok.map((e) => Number(e.ID)), auth_connector: AUTH_CONNECTOR }, { idempotent: true });
  await getDb().offlineClaim.update({ where: { portalId_processId: { portalId, processId } }, data: { status: "cleared", clearedAt: new Date(), eventCount: events.length, lastError: failed.length ? `${failed.length} marked as error` : null } });
  if (failed.length) bumpMetric(portalId, "offline.errors", failed.length);
  return failed.length;
}

async function resumeClaims(client: BitrixClient, portalId: string): Promise<number> {
  const open = await getDb().offlineClaim.findMany({ where: { portalId, status: "claimed" } });
  for (const c of open) {
    const res = await client.call<OfflineBatch>("event.offline.get", { clear: 0, process_id: c.processId, auth_connector: AUTH_CONNECTOR }, { idempotent: true });
    await settleBatch(client, portalId, c.processId, res.result.events ?? []);
  }
  return open.length;
}

export async function drainOffline(portalId: string, maxBatches = 20): Promise<DrainReport> {
  const client = await bitrixFor(portalId);
  const report: DrainReport = { batches: 0, events: 0, errors: 0, resumed: await resumeClaims(client, portalId) };
  for (let i = 0; i < maxBatches; i++) {
    const res = await client.call<OfflineBatch>("event.offline.get", { clear: 0, limit: BATCH, auth_connector: AUTH_CONNECTOR }, { idempotent: false });
    const { process_id: processId, events } = res.result;
    if (!processId || !events?.length) break;
    await getDb().offlineClaim.create({ data: { portalId, processId, eventCount: events.length } });
    report.errors += await settleBatch(client, portalId, processId, events);
    report.batches++;
    report.events += events.length;
    // A batch short of the limit means the queue is empty for now: under a steady trickle, going on would spend the
    // portal's request budget on near-empty batches while the inbox waits for this worker (the next notification,
    // or the follow-up drain, picks up what arrives meanwhile).
    if (events.length < BATCH) break;
  }
  if (report.events) log.info({ portalId, ...report }, "offline queue drained");
  return report;
}

/**
 * Job `offline.drain`. ONOFFLINEEVENT is throttled by minTimeout: an event queued in the quiet window after a
 * notification brings no notification of its own, so a drain that found events looks again once the window passed —
 * otherwise such an event would wait for the minute's fallback poll.
 */
export async function runOfflineDrain(portalId: string): Promise<DrainReport> {
  const report = await drainOffline(portalId);
  if (report.events > 0) await enqueueUnlessWaiting("offline.drain", portalId, new Date(Date.now() + OFFLINE_NOTIFY_MIN_TIMEOUT_S * 1000));
  return report;
}

/** Offline queue lag for the admin page: reserved-but-unacknowledged batches and error-marked items. */
export async function offlineHealth(portalId: string) {
  const [open, errors] = await Promise.all([
    getDb().offlineClaim.findFirst({ where: { portalId, status: "claimed" }, orderBy: { claimedAt: "asc" } }),
    getDb().offlineClaim.count({ where: { portalId, lastError: { not: null } } }),
  ]);
  return { oldestOpenClaimAt: open?.claimedAt ?? null, batchesWithErrors: errors };
}
