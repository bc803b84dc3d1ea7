// Bench 6.1 — backfill of N deals on the fake portal under Bitrix24's default limits: wall time of
// lib/history/backfill.ts (runBackfill until complete) next to the minimum the same limits impose.
import pg from "pg";
import { getDb } from "@/lib/db";
import { LISTS_PER_BATCH, runBackfill } from "@/lib/history/backfill";
import { partDb, progress, startInstalledApp } from "./history-env";
import { fmt, type BenchRow } from "./table";

const PER_REQUEST = LISTS_PER_BATCH * 50; // 50 list commands × 50 records
/** Bitrix24's default plan (docs/bitrix24.md#rate-limits) and the fake's operating cost of one list command
 * (docs/fake-portal.md). */
export const LIMITS = { burst: 50, drain: 2, operatingS: 480, windowS: 600, listOpS: 0.05 };
const SETUP_PER_ENTITY = 2;

/**
 * The least time the limits allow for the job's requests, from an empty bucket:
 * per entity 2 set-up requests (the count, crm.<e>.fields for the select) + ⌊n / 2 500⌋ + 1 batches (the last one
 * sees a short page);
 * bucket: max(0, (requests − burst) / drain); operating time: each batch runs 50 `crm.<e>.list` commands (+1 count),
 * 0.05 s each, against 480 s per method per sliding 10 min ⇒ max(0, 600 × (op − 480) / 480); minimum = the larger.
 */
export function backfillMinimum(counts: Record<string, number>, l = LIMITS) {
  const batches = Object.values(counts).map((n) => Math.floor(n / PER_REQUEST) + 1);
  const requests = batches.reduce((s, b) => s + b + SETUP_PER_ENTITY, 0);
  const bucketS = Math.max(0, (requests - l.burst) / l.drain);
  const opS = Math.max(...batches.map((b) => (b * LISTS_PER_BATCH + 1) * l.listOpS));
  const operatingS = Math.max(0, (l.windowS * (opS - l.operatingS)) / l.operatingS);
  // Steady state for large portals: the bucket gives drain × 2 500 records/s, the operating budget
  // (480 s / 600 s) ÷ 0.05 s × 50 records; the smaller one is the ceiling.
  const ceiling = Math.min(l.drain * PER_REQUEST, (l.operatingS / l.windowS / l.listOpS) * 50);
  return {
    requests,
    bucketS,
    opS,
    operatingS,
    minimumS: Math.max(bucketS, operatingS),
    ceiling,
    largestBatches: Math.max(...batches),
  };
}

/** Times the app's database round trips (the pg pool the Prisma driver adapter uses). */
function timeDatabase() {
  const proto = pg.Pool.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
  const original = proto.query;
  const stats = { queries: 0, ms: 0 };
  proto.query = async function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      stats.queries++;
      stats.ms += performance.now() - started;
    }
  };
  return {
    stats,
    restore: () => {
      proto.query = original;
    },
  };
}

/** Times every request the app sends to the portal (the portal's service time, as a client sees it). */
function timePortalRequests(prefix: string) {
  const original = globalThis.fetch;
  const stats = { requests: 0, ms: 0 };
  globalThis.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(prefix)) return original(input, init);
    const started = performance.now();
    try {
      const res = await original(input, init);
      const body = await res.arrayBuffer();
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      stats.requests++;
      stats.ms += performance.now() - started;
    }
  };
  return {
    stats,
    restore: () => {
      globalThis.fetch = original;
    },
  };
}

export async function benchBackfill(deals: number): Promise<BenchRow[]> {
  const db = await partDb("backfill");
  const env = await startInstalledApp(db, deals).catch(async (e) => {
    await db.stop();
    throw e;
  });
  try {
    await env.defaultLimits();
    const counts = Object.fromEntries(Object.entries(env.state.crm).map(([e, m]) => [e, m.size]));
    const min = backfillMinimum(counts);
    const timer = timePortalRequests(env.state.clientEndpoint);
    const dbTimer = timeDatabase();
    const started = performance.now();
    let calls = 0;
    try {
      for (let done = false; !done; calls++) done = (await runBackfill(env.portalId)).complete;
    } finally {
      timer.restore();
      dbTimer.restore();
    }
    const wallS = (performance.now() - started) / 1000;
    const snapshots = await getDb().crmSnapshot.count({ where: { portalId: env.portalId } });
    const total = Object.values(counts).reduce((s, n) => s + n, 0);
    const served503 = env.state.counters.served503;
    const restS = timer.stats.ms / 1000;
    progress(
      `backfill: ${snapshots}/${total} snapshots in ${fmt(wallS)} s (${calls} runBackfill calls, ${timer.stats.requests} requests, ${fmt(restS)} s in them)`,
    );
    const bench = "6 history backfill";
    return [
      {
        bench,
        metric: `wall time, ${deals} deals + ${total - deals} others, ${db.kind}`,
        value: `${fmt(wallS)} s`,
        baseline: `limit-imposed minimum ${fmt(min.minimumS)} s`,
        note:
          `${min.requests} requests (per entity count + fields + ⌊n/2500⌋+1 batches of 50 lists; ${timer.stats.requests} sent); bucket max(0,(${min.requests}−50)/2) = ${fmt(min.bucketS)} s; ` +
          `operating ${min.largestBatches}×50+1 crm.deal.list × 0.05 s = ${fmt(min.opS, 0)} s vs 480 s/10 min → ${fmt(min.operatingS)} s; min = the larger`,
      },
      {
        bench,
        metric: "time inside portal requests",
        value: `${fmt(restS)} s in ${timer.stats.requests} requests`,
        baseline: `wall ${fmt(wallS)} s`,
        note: `ours ${fmt(wallS - restS)} s: ${dbTimer.stats.queries} database round trips ${fmt(dbTimer.stats.ms / 1000)} s, the rest CPU (JSON, Prisma) and waits`,
      },
      {
        bench,
        metric: "records/s",
        value: fmt(snapshots / wallS, 0),
        baseline: `limit ceiling ${fmt(min.ceiling, 0)}/s (steady state)`,
        note: `${snapshots} / ${total} snapshots; ceiling = min(2 req/s × 2500, 480 s/600 s ÷ 0.05 s × 50): operating time binds first`,
      },
      {
        bench,
        metric: "503 QUERY_LIMIT_EXCEEDED served",
        value: String(served503),
        baseline: "0 (target)",
        note: `${calls} runBackfill call(s) (20 s budget each)`,
      },
    ];
  } finally {
    await env.stop();
    await db.stop();
  }
}
