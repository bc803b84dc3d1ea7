import "server-only";
import { randomUUID } from "node:crypto";
import { flushRestLog } from "@/lib/bitrix/rest-log";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { processInboxBatch } from "@/lib/events/inbox";
import { runInLane } from "@/lib/bitrix/call-lane";
import { keepLeased, underLease } from "@/lib/jobs/lease";
import { claimJobs, enqueueJob, finishJob, type JobRow } from "@/lib/jobs/queue";
import { JOB_HANDLERS } from "@/lib/composition/registry";
import { sleep } from "@/lib/sleep";
import { errorMessage } from "@/lib/error-message";

// The worker loop: inbox rows and jobs, claimed with SKIP LOCKED, plus schedules (offline fallback poll, app.info
// probe, token keep-alive, reconciliation sweep, REST log pruning). Schedules are jobs with a dedupe key per period,
// so N workers enqueue each tick once; a portal's run is queued ahead, at its own phase of the period (nextRun).
export const WORKER_ID = `${process.pid}-${randomUUID().slice(0, 8)}`;
/** Background jobs one worker process runs at once (each of a different portal, lib/jobs/queue.ts claimJobs). */
export const BACKGROUND_SLOTS = 2;
/** Capture jobs (offline drains of different portals) a worker runs side by side (CapturePool). */
const CAPTURE_JOBS_AT_ONCE = 8;
interface ScheduledPortal {
  id: string;
  reconcileEveryMin: number;
  retentionYears: number | null;
  capability: { features: unknown } | null;
}
type Schedule = { kind: string; everyMs: number; offlineOnly?: boolean; everyMsOf?: (p: ScheduledPortal) => number };
const SCHEDULES: Schedule[] = [
  { kind: "offline.drain", everyMs: 60_000, offlineOnly: true },
  { kind: "portal.probe", everyMs: 15 * 60_000 },
  { kind: "tokens.keepalive", everyMs: 24 * 3600_000 },
  // the reconciliation sweep (lib/history/reconcile.ts), at each portal's own period; 0 minutes: off
  { kind: "history.reconcile", everyMs: 15 * 60_000, everyMsOf: (p) => p.reconcileEveryMin * 60_000 },
  // retention (lib/history/retention.ts): hourly slices, only for portals that keep history for limited years
  { kind: "history.retention", everyMs: 3600_000, everyMsOf: (p) => (p.retentionYears ? 3600_000 : 0) },
];
/** Schedules of the whole installation, not of a portal. */
const GLOBAL_SCHEDULES: { kind: string; everyMs: number }[] = [{ kind: "restlog.prune", everyMs: 3600_000 }];

/**
 * A portal's next scheduled run: its runs fall at its own phase of the period (a stable hash of its id), so 200
 * portals' minute polls come ~0.3 s apart instead of all at the minute's start — where they stood in front of every
 * portal's capture for seconds (the fairness bench, issue #15 item 5). `due` numbers the run (its dedupe key); the
 * run before it, `due - 1`, is the one of the current period (its time has come).
 */
export function nextRun(portalId: string, everyMs: number, now = Date.now()): { due: number; runAt: Date } {
  let h = 2166136261; // FNV-1a
  for (let i = 0; i < portalId.length; i++) h = Math.imul(h ^ portalId.charCodeAt(i), 16777619);
  const phase = (h >>> 0) % everyMs;
  const due = Math.floor((now - phase) / everyMs) + 1;
  return { due, runAt: new Date(due * everyMs + phase) };
}

/** One tick of the schedules (exported for tests). */
export async function schedule() {
  const portals: ScheduledPortal[] = await getDb().portal.findMany({
    where: { status: { in: ["active", "payment_required"] } },
    select: { id: true, reconcileEveryMin: true, retentionYears: true, capability: { select: { features: true } } },
  });
  // A tick whose previous run still waits adds nothing: when workers fall behind, a portal keeps one waiting run of
  // each schedule instead of a pile (the drain an ONOFFLINEEVENT asks for would wait behind stale ones).
  const waiting = new Set(
    (
      await getDb().job.findMany({
        where: { status: "pending", kind: { in: SCHEDULES.map((s) => s.kind) } },
        select: { kind: true, portalId: true },
        distinct: ["kind", "portalId"],
      })
    ).map((j) => `${j.kind}:${j.portalId}`),
  );
  for (const s of SCHEDULES) {
    for (const p of portals) {
      const everyMs = s.everyMsOf?.(p) ?? s.everyMs;
      if (everyMs <= 0 || waiting.has(`${s.kind}:${p.id}`)) continue;
      if (
        s.offlineOnly &&
        (p.capability?.features as Record<string, string> | undefined)?.rest_offline_extended !== "Y"
      )
        continue;
      // this period's run if it has not been queued yet (a new portal, a worker after downtime, a tick that found a
      // run still waiting), else the next one, queued ahead at the portal's phase. The first is due now, not at its
      // phase gone by: the claim takes the oldest runAt first, and a backdated poll went ahead of the drains events
      // had asked for meanwhile (and read as a 30 s wait in the fairness bench's breakdown).
      const next = nextRun(p.id, everyMs);
      const key = (due: number) => `${s.kind}:${p.id}:${due}`;
      const current = { portalId: p.id, dedupeKey: key(next.due - 1), runAt: new Date() };
      if (!(await enqueueJob(s.kind, current)))
        await enqueueJob(s.kind, { portalId: p.id, dedupeKey: key(next.due), runAt: next.runAt });
    }
  }
  for (const s of GLOBAL_SCHEDULES) {
    await enqueueJob(s.kind, { dedupeKey: `${s.kind}:${Math.floor(Date.now() / s.everyMs)}` });
  }
}

async function runJob(job: JobRow, signal?: AbortSignal): Promise<void> {
  const handler = JOB_HANDLERS[job.kind];
  try {
    if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
    await finishJob(job.id, { ok: true, result: await handler(job, signal) });
  } catch (e) {
    const error = errorMessage(e);
    log.warn({ job: job.kind, portalId: job.portalId, err: error }, "job failed");
    await finishJob(
      job.id,
      job.attempts < 5 ? { ok: false, error, retryInMs: 10_000 * 2 ** job.attempts } : { ok: false, error },
    );
  }
}

/**
 * One background job claimed and run: the background lanes' round (their claim gives a portal one job at a time,
 * lib/jobs/queue.ts claimJobs). Capture jobs run as a pool instead (CapturePool).
 */
async function runBackgroundJob(signal: AbortSignal): Promise<number> {
  const [job] = await claimJobs(WORKER_ID, 1, "background");
  if (job) await runJob(job, signal);
  return job ? 1 : 0;
}

/**
 * The capture lane's jobs as a pool (issue #15 item 5): up to CAPTURE_JOBS_AT_ONCE run at once and a freed slot is
 * claimed again at once — a slow drain (a portal whose own REST budget its backfill spends, a portal that answers
 * slowly) holds its own slot, never the other portals' next drains, as a round that waited for its slowest job did.
 * A portal's own jobs run one after the other. While jobs run, their lease is renewed (lib/jobs/lease.ts).
 */
export class CapturePool {
  private readonly chains = new Map<string, Promise<void>>();
  private running = 0;
  private renewal: ReturnType<typeof setInterval> | null = null;
  constructor(
    private readonly limit: number,
    private readonly run: (job: JobRow) => Promise<void>,
  ) {}

  get busy(): number {
    return this.running;
  }

  /** Claims as many capture jobs as slots are free and starts them; how many it started. */
  async fill(): Promise<number> {
    const free = this.limit - this.running;
    if (free <= 0) return 0;
    const jobs = await claimJobs(WORKER_ID, free, "capture");
    for (const job of jobs) this.start(job);
    return jobs.length;
  }

  private start(job: JobRow) {
    const key = job.portalId ?? "";
    this.running++;
    if (this.running === 1) this.renewal = keepLeased(WORKER_ID);
    const chain: Promise<void> = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.run(job))
      .catch((err: unknown) => log.error({ err, job: job.kind }, "capture job failed outside its handler"))
      .finally(() => {
        this.running--;
        if (this.running === 0 && this.renewal) {
          clearInterval(this.renewal);
          this.renewal = null;
        }
        if (this.chains.get(key) === chain) this.chains.delete(key);
      });
    this.chains.set(key, chain);
  }

  /** Resolves when one of the running jobs ends, or after `ms`: a lane with jobs running waits for a free slot. */
  async nextEnd(ms: number): Promise<void> {
    await Promise.race([...this.chains.values(), sleep(ms)]);
  }

  /** Waits for the jobs that run (a stopping worker finishes what it claimed). */
  async settle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }
}

/** One lane: `work` again and again under a renewed lease, resting a moment when it found nothing to do. */
async function lane(name: string, signal: AbortSignal, work: () => Promise<number>): Promise<void> {
  while (!signal.aborted) {
    try {
      // Leased: what a killed worker held goes back to the queue within LEASE_MS (lib/jobs/lease.ts).
      const done = await underLease(WORKER_ID, work);
      if (!done) await sleep(300);
    } catch (e) {
      log.error({ err: e, lane: name }, "worker iteration failed");
      await sleep(2000);
    }
  }
}

/**
 * The worker: a capture lane (schedules, the inbox, the offline drain) and BACKGROUND_SLOTS background lanes that run
 * side by side, so capture never waits for a backfill slice or a sweep, and two portals' long work runs in parallel.
 */
export async function runWorker(
  signal: AbortSignal,
  lanes: "all" | "capture" | "background" = "all",
  backgroundSlots = BACKGROUND_SLOTS,
): Promise<void> {
  log.info({ worker: WORKER_ID, lanes, backgroundSlots }, "worker started");
  const pool = new CapturePool(CAPTURE_JOBS_AT_ONCE, (job) => runInLane("capture", () => runJob(job, signal)));
  const capture = async () =>
    runInLane("capture", async () => {
      const found = (await processInboxBatch(WORKER_ID)) + (await pool.fill());
      if (found || !pool.busy) return found;
      // drains running and nothing new: look again as soon as one ends — the inbox rows it wrote are the next work
      await pool.nextEnd(300);
      return 1;
    });
  // the schedules' tick (every portal's next runs) beside the capture lane, never in front of its next drain
  const ticks = async () => {
    while (!signal.aborted) {
      try {
        await schedule();
      } catch (e) {
        log.error({ err: e }, "schedule tick failed");
      }
      await sleep(30_000, signal).catch(() => undefined);
    }
  };
  // WORKER_LANES=capture / background: lanes in processes of their own, so a backfill's CPU (one Node thread) cannot
  // delay capture either; "all" (the default) runs both here.
  await Promise.all([
    ...(lanes !== "background" ? [lane("capture", signal, capture), ticks()] : []),
    ...(lanes !== "capture"
      ? Array.from({ length: backgroundSlots }, (_, i) =>
          lane(`background-${i}`, signal, () => runBackgroundJob(signal)),
        )
      : []),
  ]);
  await pool.settle(); // the capture jobs it claimed finish
  await flushRestLog(); // the REST log's last second (lib/bitrix/rest-log.ts)
  log.info({ worker: WORKER_ID }, "worker stopped");
}
