import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { bumpMetric } from "@/lib/metrics/bump";
import { enqueueUnlessWaiting } from "@/lib/jobs/queue";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import { OFFLINE_NOTIFY_MIN_TIMEOUT_S } from "@/lib/lifecycle/registry";

// The safe offline flow (docs/bitrix24.md#offline-events): event.offline.get clear=0 → persist (inbox, deduplicated) →
// event.offline.clear by process_id and ids → event.offline.error for items we could not take. The claim row is written
// before anything is processed, so a crash between get and clear loses nothing: the batch is re-read by its process_id.
// Bitrix24 hands parallel callers disjoint batches, so several workers drain one portal without overlap.
//
// Items marked by event.offline.error do not come back by themselves: core keeps them as error rows that only
// `event.offline.get error=1` returns, and every later event for the same object MERGES into that error row
// (modules/rest/lib/eventoffline.php callEvent/markError). Unread, one failed batch would silently stop the capture
// of those records, so a drain also takes the error rows back while batches it marked are outstanding.

interface OfflineEvent {
  ID: string;
  EVENT_NAME: string;
  EVENT_DATA: unknown;
  EVENT_ADDITIONAL?: { user_id?: string } | false;
  MESSAGE_ID: string;
}
interface OfflineBatch {
  process_id: string | null;
  events: OfflineEvent[];
}
const BATCH = 50;
export interface DrainReport {
  batches: number;
  events: number;
  errors: number;
  resumed: number;
  retried: number;
}

/** Claim status of a batch whose failed items went to the portal's error queue and are not taken back yet. */
const MARKED = "marked";
/** lastError of a claim reserved from the error queue: it is re-read with error=1 (event.php eventOfflineGet). */
const FROM_ERROR_QUEUE = "error queue";

const malformed = (e: OfflineEvent) => !/^[A-Z0-9_]+$/i.test(e.EVENT_NAME) || String(e.MESSAGE_ID).length !== 32;

async function persist(
  portalId: string,
  events: OfflineEvent[],
): Promise<{ ok: OfflineEvent[]; failed: OfflineEvent[] }> {
  const ok: OfflineEvent[] = [];
  const failed: OfflineEvent[] = [];
  for (const e of events) {
    try {
      if (malformed(e)) throw new Error("malformed offline record");
      const data = e.EVENT_DATA && typeof e.EVENT_DATA === "object" ? (e.EVENT_DATA as Prisma.InputJsonValue) : null;
      const userId =
        e.EVENT_ADDITIONAL && e.EVENT_ADDITIONAL.user_id !== "0" ? (e.EVENT_ADDITIONAL.user_id ?? null) : null;
      await getDb().eventInbox.create({
        data: {
          portalId,
          event: e.EVENT_NAME.toUpperCase(),
          source: "offline",
          idempotencyKey: `offline:${e.MESSAGE_ID}:${e.ID}`,
          payload: { data, ts: null, user_id: userId },
        },
      });
      ok.push(e);
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")
        ok.push(e); // already stored
      else failed.push(e);
    }
  }
  return { ok, failed };
}

/**
 * A batch from the normal queue: failures are marked as errors (they come back through the error queue). A batch
 * from the error queue: marking again would change nothing (markError touches only ERROR=0 rows, the items would
 * stay reserved), so its failures stay in the claim, which the next drain re-reads by process_id — except malformed
 * items, which no retry can store: they are cleared.
 */
async function settleBatch(
  client: BitrixClient,
  portalId: string,
  processId: string,
  events: OfflineEvent[],
  fromErrors: boolean,
) {
  const persisted = await persist(portalId, events);
  const dropped = fromErrors ? persisted.failed.filter(malformed) : [];
  const failed = persisted.failed.filter((e) => !dropped.includes(e));
  const done = [...persisted.ok, ...dropped];
  const base = { process_id: processId, auth_connector: AUTH_CONNECTOR };
  if (failed.length && !fromErrors) {
    await client.call("event.offline.error", { ...base, message_id: failed.map((e) => e.MESSAGE_ID) });
  }
  if (done.length) {
    await client.call("event.offline.clear", { ...base, id: done.map((e) => Number(e.ID)) }, { idempotent: true });
  }
  const where = { portalId_processId: { portalId, processId } };
  if (fromErrors && failed.length) {
    await getDb().offlineClaim.update({ where, data: { eventCount: events.length, lastError: FROM_ERROR_QUEUE } });
  } else {
    const lastError = fromErrors ? FROM_ERROR_QUEUE : null;
    const marked = failed.length ? { status: MARKED, lastError: `${failed.length} marked as error` } : {};
    const data = { status: "cleared", lastError, ...marked, clearedAt: new Date(), eventCount: events.length };
    await getDb().offlineClaim.update({ where, data });
  }
  if (dropped.length) log.warn({ portalId, processId, dropped: dropped.length }, "malformed offline items cleared");
  if (failed.length) bumpMetric(portalId, "offline.errors", failed.length);
  return failed.length;
}

function readBatch(client: BitrixClient, params: Record<string, unknown>, idempotent: boolean) {
  const query = { clear: 0, ...params, auth_connector: AUTH_CONNECTOR };
  return client.call<OfflineBatch>("event.offline.get", query, { idempotent });
}

async function resumeClaims(client: BitrixClient, portalId: string): Promise<number> {
  const open = await getDb().offlineClaim.findMany({ where: { portalId, status: "claimed" } });
  for (const c of open) {
    const fromErrors = c.lastError === FROM_ERROR_QUEUE;
    const res = await readBatch(client, { process_id: c.processId, ...(fromErrors ? { error: 1 } : {}) }, true);
    await settleBatch(client, portalId, c.processId, res.result.events ?? [], fromErrors);
  }
  return open.length;
}

/**
 * Takes back what event.offline.error parked, while a batch this app marked is outstanding: those items, and the
 * later events for the same records that merged into them. Once the error queue reads short, the marks are settled.
 */
async function drainErrorQueue(client: BitrixClient, portalId: string, report: DrainReport, maxBatches: number) {
  if (!(await getDb().offlineClaim.count({ where: { portalId, status: MARKED } }))) return;
  for (let i = 0; i < maxBatches; i++) {
    const res = await readBatch(client, { error: 1, limit: BATCH }, false);
    const { process_id: processId, events } = res.result;
    if (processId && events?.length) {
      const data = { portalId, processId, eventCount: events.length, lastError: FROM_ERROR_QUEUE };
      await getDb().offlineClaim.create({ data });
      report.errors += await settleBatch(client, portalId, processId, events, true);
      report.batches++;
      report.events += events.length;
      report.retried += events.length;
    }
    if ((events?.length ?? 0) < BATCH) break;
  }
  // Whatever failed again stays in its own claim; the marks themselves are settled.
  await getDb().offlineClaim.updateMany({ where: { portalId, status: MARKED }, data: { status: "cleared" } });
}

export async function drainOffline(portalId: string, maxBatches = 20): Promise<DrainReport> {
  const client = await bitrixFor(portalId);
  const resumed = await resumeClaims(client, portalId);
  const report: DrainReport = { batches: 0, events: 0, errors: 0, resumed, retried: 0 };
  for (let i = 0; i < maxBatches; i++) {
    const res = await readBatch(client, { limit: BATCH }, false);
    const { process_id: processId, events } = res.result;
    if (!processId || !events?.length) break;
    await getDb().offlineClaim.create({ data: { portalId, processId, eventCount: events.length } });
    report.errors += await settleBatch(client, portalId, processId, events, false);
    report.batches++;
    report.events += events.length;
    // A batch short of the limit means the queue is empty for now: under a steady trickle, going on would spend the
    // portal's request budget on near-empty batches while the inbox waits for this worker (the next notification,
    // or the follow-up drain, picks up what arrives meanwhile).
    if (events.length < BATCH) break;
  }
  await drainErrorQueue(client, portalId, report, maxBatches);
  if (report.events) log.info({ portalId, ...report }, "offline queue drained");
  return report;
}

/**
 * An ONOFFLINEEVENT: drain soon — one waiting drain however many notifications arrive — and look again once its quiet
 * window has passed. Bitrix24 sends a binding no notification for events queued within minTimeout of the last one it
 * sent (core eventoffline.php `checkSendTime`; the fake does the same), so without that look they would wait for the
 * minute's fallback poll. The look belongs to this notification: a drain due before the window ends (the schedule's
 * next poll, the look of an earlier notification) does not stand in for it, since it may run before the window's
 * events arrive — the CI e2e failures of 2026-12-02 (watch-rules.spec.ts) were such an edit, left for 27–60 s.
 * Notifications come at least minTimeout apart, so looks do too: a portal edited without pause adds none.
 */
export async function onOfflineNotification(portalId: string): Promise<void> {
  await enqueueUnlessWaiting("offline.drain", portalId);
  const quietMs = OFFLINE_NOTIFY_MIN_TIMEOUT_S * 1000;
  const at = Date.now() + quietMs;
  // a run due from a second before the look (a duplicate delivery of this notification) to a window after it covers it
  await enqueueUnlessWaiting("offline.drain", portalId, new Date(at), {
    from: new Date(at - 1000),
    until: new Date(at + quietMs),
  });
}

/** Offline queue lag for the admin page: reserved-but-unacknowledged batches and error-marked items. */
export async function offlineHealth(portalId: string) {
  const [open, errors] = await Promise.all([
    getDb().offlineClaim.findFirst({ where: { portalId, status: "claimed" }, orderBy: { claimedAt: "asc" } }),
    getDb().offlineClaim.count({ where: { portalId, lastError: { not: null } } }),
  ]);
  return { oldestOpenClaimAt: open?.claimedAt ?? null, batchesWithErrors: errors };
}
