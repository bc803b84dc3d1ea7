// Bench 1 — event ingestion: sustained requests/s, p50/p99 and the web process's CPU per request of
// POST /api/bitrix/events next to a bare Next.js route (/api/ping) in the same run, on the embedded PGlite and — when
// BENCH_DATABASE_URL names a server — on a real PostgreSQL, each with a fresh database; the worker runs in a
// process of its own so the web's CPU is the route's alone. Then waits (bounded, BENCH_DRAIN_SECONDS) until the worker processed
// what was accepted: accepted (2xx) vs stored (inbox rows) vs processed (done). The fake portal keeps Bitrix24's
// standard limits (50 burst, 2 requests/s), so processing speed is what a real portal would allow.
import { cpuNow, cpuPer, withStack, type BenchStack, type Cpu } from "./app";
import { dbKinds, PGLITE_ONLY } from "./db";
import { crmEventMix, inboxCounts, lastInboxId, reconcile, type InboxCounts } from "./events";
import { load, non2xxSummary, type LoadResult } from "./load";
import { fmt, int, type BenchRow } from "./table";
import { sleep } from "@/lib/sleep";

const CONNECTIONS = 16;
const WARM_UP = 10_000_000; // body numbers of the warm-up events (their own ts, never mistaken for measured ones)

interface Rest {
  requests: number;
  served503: number;
}

async function restCounters(portalUrl: string): Promise<Rest> {
  const c = (await (await fetch(`${portalUrl}/_fake/counters`)).json()) as {
    rest: Record<string, number>;
    served503: number;
  };
  return { requests: Object.values(c.rest).reduce((s, n) => s + n, 0), served503: c.served503 };
}

/** Polls the inbox until nothing of ours is pending or processing, or the bound is reached. */
export async function waitProcessed(
  url: string,
  afterId: bigint,
  boundMs: number,
  onPoll?: (c: InboxCounts) => void,
): Promise<InboxCounts & { waitedMs: number }> {
  const started = Date.now();
  let c = await inboxCounts(url, afterId);
  while (c.pending + c.processing > 0 && Date.now() - started < boundMs) {
    await sleep(2000);
    c = await inboxCounts(url, afterId);
    onPoll?.(c);
  }
  return { ...c, waitedMs: Date.now() - started };
}

// Known signatures of non-2xx answers, so the table names the cause rather than a count.
const CAUSES: [RegExp, string][] = [
  [
    /bind message supplies \d+ parameters|unnamed prepared statement/i,
    "cause: the PGlite wire server ran concurrent connections' protocol messages interleaved in its one session (pglite-socket 0.2.x, electric-sql/pglite#1046; scripts/pglite-server.ts avoids it), so a query bound another's statement (500) or silently got no rows (401 Unknown portal, events answered 200 but never stored)",
  ],
  [/database_unavailable/, "cause: the database was unreachable longer than the request's retry window (503)"],
];

function diagnose(samples: string[], problems: string[]): string {
  const text = [...samples, ...problems].join("\n");
  const known = CAUSES.filter(([re]) => re.test(text)).map(([, cause]) => cause);
  return [...known, ...samples.slice(0, 2), ...problems.slice(0, 2).map((p) => p.slice(0, 200))].join(" ‖ ");
}

export type Drained = InboxCounts & { waitedMs: number; lost: number; unanswered: number };

/** Every accepted event stored, every stored one processed, none dead. */
export function inEqualsProcessed(c: Drained): boolean {
  return c.pending + c.processing === 0 && c.lost === 0 && c.dead === 0 && c.done === c.stored;
}

function cpuRow(label: string, ping: Cpu, ev: Cpu, worker: number): BenchRow {
  const db = Number.isNaN(ev.db)
    ? `bench process (load generator + PGlite) ${fmt(ev.bench, 2)} ms`
    : `PostgreSQL ${fmt(ev.db, 2)} ms, load generator ${fmt(ev.bench, 2)} ms`;
  return {
    bench: label,
    metric: "CPU ms per request, web process",
    value: fmt(ev.web, 2),
    baseline: `${fmt(ping.web, 2)} (bare route)`,
    note: `per event also: worker ${fmt(worker, 2)} ms, ${db}; CPU time varies less than req/s with the machine's other load`,
  };
}

function rows(
  label: string,
  bare: LoadResult,
  ev: LoadResult,
  c: Drained,
  processSeconds: number,
  rest: Rest,
  s: BenchStack,
): BenchRow[] {
  const drained = c.pending + c.processing === 0;
  const out: BenchRow[] = [
    {
      bench: label,
      metric: "POST /api/bitrix/events requests/s",
      value: fmt(ev.rps, 0),
      baseline: `${fmt(bare.rps, 0)} (bare route /api/ping)`,
      note: `ratio ${fmt(ev.rps / bare.rps, 2)}; ${CONNECTIONS} keep-alive connections, ${fmt(ev.seconds, 0)} s each`,
    },
    {
      bench: label,
      metric: "latency p50 / p99 ms",
      value: `${ev.p50} / ${ev.p99}`,
      baseline: `${bare.p50} / ${bare.p99} (bare route)`,
    },
    {
      bench: label,
      metric: "events in = processed",
      value: `${int(ev.ok - ev.duplicates)} accepted, ${int(c.stored)} stored, ${int(c.done)} processed`,
      baseline: inEqualsProcessed(c) ? "equal" : "not equal",
      note: `${c.lost} accepted but not stored; ${c.unanswered} stored whose answer was in flight when the load stopped; non-2xx ${non2xxSummary(ev)}, ${ev.errors} errors (${ev.timeouts} timeouts)${c.dead ? `; ${c.dead} dead-lettered` : ""}${drained ? "" : `; ${int(c.pending + c.processing)} still queued`}`,
    },
    {
      bench: label,
      metric: "worker: queue drained",
      value: drained ? `${fmt(c.waitedMs / 1000, 0)} s after the load` : `not within ${fmt(c.waitedMs / 1000, 0)} s`,
      baseline: "portal limit 2 REST requests/s, burst 50",
      note: `${int(rest.requests)} REST calls for ${int(c.done)} events (${fmt(rest.requests / Math.max(1, c.done), 2)} per event), ${rest.served503} × 503; ${fmt(c.done / processSeconds, 0)} events/s over load + drain`,
    },
  ];
  if (ev.non2xx || s.problems.length)
    out.push({
      bench: label,
      metric: "non-2xx / logged errors",
      value: `${ev.non2xx} / ${s.problems.length}`,
      note: diagnose(ev.samples, s.problems).slice(0, 600),
    });
  return out;
}

export async function ingestOn(s: BenchStack, seconds: number, boundMs: number): Promise<BenchRow[]> {
  const portal = s.portalUrls[0]!;
  const mix = await crmEventMix(portal);
  // Warm-up (JIT, route compilation, pools), not counted: at a few dozen req/s it would be most of a short run.
  await load(`${s.appUrl}/api/ping`, { seconds: 3, connections: CONNECTIONS, body: () => "x=1" });
  await load(`${s.appUrl}/api/bitrix/events`, {
    seconds: 3,
    connections: CONNECTIONS,
    body: (i) => mix.body(WARM_UP + i),
  });
  await waitProcessed(s.db.url, 0n, boundMs);
  const afterId = await lastInboxId(s.db.url);
  await fetch(`${portal}/_fake/reset-counters`, { method: "POST" });
  const cpu0 = cpuNow(s);
  const bare = await load(`${s.appUrl}/api/ping`, { seconds, connections: CONNECTIONS, body: () => "x=1" });
  const cpu1 = cpuNow(s);
  const started = Date.now();
  const queued = new Set<number>();
  const ev = await load(`${s.appUrl}/api/bitrix/events`, {
    seconds,
    connections: CONNECTIONS,
    body: mix.body,
    onQueued: (i) => queued.add(i),
  });
  const cpu2 = cpuNow(s);
  const c = {
    ...(await waitProcessed(s.db.url, afterId, boundMs)),
    ...(await reconcile(s.db.url, afterId, mix, queued)),
  };
  const label = `1 ingestion (${s.db.kind})`;
  const out = rows(label, bare, ev, c, (Date.now() - started) / 1000, await restCounters(portal), s);
  out.splice(
    2,
    0,
    cpuRow(label, cpuPer(cpu0, cpu1, bare.sent), cpuPer(cpu1, cpu2, ev.sent), cpuPer(cpu1, cpuNow(s), c.done).worker),
  );
  out[0]!.note += `; worker in its own process; ${mix.describe}`;
  return out;
}

export async function benchIngest(seconds = 15): Promise<BenchRow[]> {
  const boundMs = Number(process.env.BENCH_DRAIN_SECONDS ?? 120) * 1000;
  const out: BenchRow[] = [];
  for (const kind of dbKinds())
    out.push(
      ...(await withStack("ingest", kind, { deals: 2000, worker: "process" }, (s) => ingestOn(s, seconds, boundMs))),
    );
  if (dbKinds().length === 1)
    out.push({ bench: "1 ingestion", metric: "databases measured", value: "PGlite", note: PGLITE_ONLY });
  return out;
}
