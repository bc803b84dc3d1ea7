// Bench 4 — memory: RSS of the web process (WORKER_IN_WEB=0) and of a separate worker process (lib/composition/main.ts)
// over BENCH_EVENTS events (default 1 000 000), sampled every second and recorded at checkpoints (every tenth of the
// run: web by events received, worker by events processed). A flat line after warm-up means no leak. The fake portal
// gets limits far above Bitrix24's (this bench measures memory, not limits), and its clock moves 10 minutes every
// real minute so the operating-time window (480 s per method per 10 min) never pauses the run.
import { cpuNow, cpuPer, withStack, type BenchStack, type Cpu } from "./app";
import { dbKinds, query } from "./db";
import { crmEventMix, inboxCounts, inboxProgress, lastInboxId, reconcile } from "./events";
import { inEqualsProcessed, type Drained } from "./ingest";
import { load } from "./load";
import { mainRss } from "./rss";
import { fmt, int, type BenchRow } from "./table";
import { sleep } from "@/lib/sleep";

const GENEROUS = 1_000_000;

/** RSS at a checkpoint, with the lowest and highest sample since the previous one (GC makes RSS a sawtooth). */
interface Point {
  events: number;
  mb: number;
  low: number;
  high: number;
}
interface Series {
  start: number;
  peak: number;
  end: number;
  points: Point[];
}

/** RSS of one stack part: sampled every second for the peak, recorded at checkpoints. */
function sampler(pgid: number) {
  const s: Series = { start: mainRss(pgid)?.rssMb ?? NaN, peak: 0, end: NaN, points: [] };
  let low = Infinity;
  let high = 0;
  const sample = () => {
    const mb = mainRss(pgid)?.rssMb ?? NaN;
    [low, high, s.peak] = [Math.min(low, mb), Math.max(high, mb), Math.max(s.peak, mb)];
    return mb;
  };
  const timer = setInterval(sample, 1000);
  const mark = (events: number) => {
    const mb = sample();
    s.points.push({ events, mb, low, high });
    [low, high] = [mb, mb];
  };
  const stop = () => {
    if (!Number.isNaN(s.end)) return;
    clearInterval(timer);
    s.end = sample();
  };
  return { series: s, mark, stop };
}

async function relaxLimits(s: BenchStack, portal: string) {
  await fetch(`${portal}/_fake/plan`, {
    method: "POST",
    body: JSON.stringify({ burst: GENEROUS, drain: GENEROUS, operatingLimit: GENEROUS }),
  });
  await query(s.db.url, `UPDATE "Portal" SET "rateBurst" = ${GENEROUS}, "rateDrainPerSec" = ${GENEROUS}`);
  const advance = () =>
    fetch(`${portal}/_fake/clock`, { method: "POST", body: JSON.stringify({ advance: 600 }) }).catch(() => undefined);
  return setInterval(advance, 60_000);
}

const at = (n: number) => (n >= 1000 ? `${fmt(n / 1000, 0)}k` : String(n));
const series = (x: Series) =>
  x.points
    .map((p, i) => (i ? `${at(p.events)} ${fmt(p.low, 0)}–${fmt(p.high, 0)}` : `${at(p.events)} ${fmt(p.mb, 0)}`))
    .join(", ");
/**
 * Growth of an interval's highest RSS from the second interval (the first is warm-up) to the last: a leak lifts the
 * peaks. The lows say less — V8 keeps freed pages, so RSS settles toward its high-water mark either way.
 */
const growth = (x: Series) => (x.points.length > 3 ? x.points.at(-1)!.high - x.points[2]!.high : NaN);

const sign = (mb: number) => (mb > 0 ? `+${fmt(mb, 0)}` : fmt(mb, 0));
const span = (seconds: number) => (seconds < 120 ? `${fmt(seconds, 0)} s` : `${fmt(seconds / 60, 0)} min`);

/** Where the run's time goes: CPU per event of each part, and the duration that alone implies on 2 idle cores. */
function cpuRow(label: string, events: number, cpu: Cpu, seconds: number): BenchRow {
  const all = cpu.web + cpu.worker + (Number.isNaN(cpu.db) ? 0 : cpu.db) + cpu.fake + cpu.bench;
  return {
    bench: label,
    metric: "CPU ms per event",
    value: `web ${fmt(cpu.web, 2)}, worker ${fmt(cpu.worker, 2)}`,
    baseline: `all parts ${fmt(all, 2)}`,
    note: `${Number.isNaN(cpu.db) ? `bench process (load generator + PGlite) ${fmt(cpu.bench, 2)}` : `PostgreSQL ${fmt(cpu.db, 2)}, load generator ${fmt(cpu.bench, 2)}`}, fake portal ${fmt(cpu.fake, 2)}; on 2 otherwise idle cores ${int(events)} events need ≥ ${span((all * events) / 2000)}, this run took ${span(seconds)}`,
  };
}

function rows(
  label: string,
  events: number,
  web: Series,
  worker: Series,
  ev: { ok: number; non2xx: number; errors: number },
  c: Drained,
  t: { ingest: number; total: number },
): BenchRow[] {
  const drained = c.pending + c.processing === 0;
  return [
    {
      bench: label,
      metric: "web RSS start / peak / end MB",
      value: `${fmt(web.start, 0)} / ${fmt(web.peak, 0)} / ${fmt(web.end, 0)}`,
      baseline: `after ${int(events)} events`,
      note: `MB (lowest–highest since the previous checkpoint) by events received: ${series(web)}; peaks ${sign(growth(web))} MB from the 2nd interval to the last`,
    },
    {
      bench: label,
      metric: "worker RSS start / peak / end MB",
      value: `${fmt(worker.start, 0)} / ${fmt(worker.peak, 0)} / ${fmt(worker.end, 0)}`,
      baseline: "separate process (WORKER_IN_WEB=0)",
      note: `MB by events processed: ${series(worker)}; peaks ${sign(growth(worker))} MB from the 2nd interval to the last`,
    },
    {
      bench: label,
      metric: "events in = processed",
      value: `${int(ev.ok)} accepted, ${int(c.stored)} stored, ${int(c.done)} processed`,
      baseline: inEqualsProcessed(c) ? "equal" : "not equal",
      note: `${c.lost} accepted but not stored; non-2xx ${ev.non2xx}, ${ev.errors} errors${c.dead ? `, ${c.dead} dead-lettered` : ""}${drained ? "" : `, ${int(c.pending + c.processing)} still queued`}; fake portal limits raised to ${int(GENEROUS)} (memory, not limits)`,
    },
    {
      bench: label,
      metric: "duration",
      value: `${fmt(t.total / 60, 1)} min`,
      baseline: `ingest ${fmt(events / t.ingest, 0)} events/s`,
      note: `processing ${fmt(c.done / t.total, 0)} events/s over the run; ingest ${fmt(t.ingest, 0)} s, then ${fmt(c.waitedMs / 1000, 0)} s until the worker was done`,
    },
  ];
}

/** Marks the worker's checkpoints as it passes them (by events processed), every few seconds in the background. */
function workerMarks(url: string, afterId: bigint, step: number, mark: (events: number) => void) {
  let next = step;
  let last = { stored: 0, queued: 0, done: 0 };
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      last = await inboxProgress(url, afterId);
      for (; last.done >= next; next += step) mark(next);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll().catch(() => undefined), 5000);
  return { poll, last: () => last, stop: () => clearInterval(timer) };
}

/** Waits until nothing is queued: bounded by BENCH_DRAIN_SECONDS, and by 5 minutes without progress. */
async function drain(marks: ReturnType<typeof workerMarks>, boundMs: number): Promise<number> {
  const started = Date.now();
  let progressAt = Date.now();
  let done = -1;
  for (;;) {
    await marks.poll();
    const p = marks.last();
    if (p.done !== done) [done, progressAt] = [p.done, Date.now()];
    if (!p.queued || Date.now() - started > boundMs || Date.now() - progressAt > 300_000) return Date.now() - started;
    await sleep(2000);
  }
}

async function memoryOn(s: BenchStack, events: number): Promise<BenchRow[]> {
  const portal = s.portalUrls[0]!;
  const clock = await relaxLimits(s, portal);
  const mix = await crmEventMix(portal);
  const afterId = await lastInboxId(s.db.url);
  const web = sampler(s.pids.web);
  const worker = sampler(s.pids.worker!);
  const step = Math.max(1000, Math.ceil(events / 10));
  const marks = workerMarks(s.db.url, afterId, step, worker.mark);
  const cpu0 = cpuNow(s);
  const started = Date.now();
  const total = { ok: 0, non2xx: 0, errors: 0 };
  const queued = new Set<number>();
  web.mark(0);
  worker.mark(0);
  try {
    for (let sent = 0; sent < events; sent += step) {
      const n = Math.min(step, events - sent);
      const r = await load(`${s.appUrl}/api/bitrix/events`, {
        amount: n,
        body: (i) => mix.body(sent + i),
        onQueued: (i) => queued.add(sent + i),
      });
      Object.assign(total, { ok: total.ok + r.ok, non2xx: total.non2xx + r.non2xx, errors: total.errors + r.errors });
      web.mark(sent + n);
      await fetch(`${portal}/_fake/reset-counters`, { method: "POST" }); // the fake logs every request; keep it small
      console.error(
        `[memory] ${int(sent + n)} sent, ${int(marks.last().done)} processed, ${fmt((Date.now() - started) / 1000, 0)} s`,
      );
    }
    const ingest = (Date.now() - started) / 1000;
    const waitedMs = await drain(marks, Number(process.env.BENCH_DRAIN_SECONDS ?? 4 * 3600) * 1000);
    await sleep(3000); // settle: the last metric flushes, then "end"
    web.stop();
    worker.stop();
    const cpu = cpuPer(cpu0, cpuNow(s), events);
    const seconds = (Date.now() - started) / 1000;
    const c = {
      ...(await inboxCounts(s.db.url, afterId)),
      waitedMs,
      ...(await reconcile(s.db.url, afterId, mix, queued)),
    };
    const label = `4 memory (${s.db.kind})`;
    return [
      ...rows(label, events, web.series, worker.series, total, c, { ingest, total: seconds }),
      cpuRow(label, events, cpu, seconds),
    ];
  } finally {
    clearInterval(clock);
    marks.stop();
    web.stop();
    worker.stop();
  }
}

export async function benchMemory(events = 1_000_000): Promise<BenchRow[]> {
  // One database is enough here (no ratio): the real PostgreSQL when there is one.
  return withStack("memory", dbKinds().at(-1)!, { deals: 2000, worker: "process" }, (s) => memoryOn(s, events));
}
