// `npm run bench -- crm` (issue 14) — the types beyond the four legacy ones, through the app's real code:
//   backfill  a mixed backfill across deals, contacts, quotes (7), new invoices (31) and a smart process (128) under
//             Bitrix24's default limits: wall time of lib/history/backfill.ts (runBackfill until complete) next to the
//             minimum those limits impose, computed as bench/history-backfill.ts does, plus the product rows every
//             record of a type with rows has read with its first snapshot (one crm.item.productrow.list command per
//             owner, 50 to a batch — no IN over owners, lib/history/product-rows.ts).
//   capture   lag edit → stored change for smart-process items (ONCRMDYNAMICITEMUPDATE through the offline queue),
//             at a sustained edit rate, real worker process — like bench/history-capture.ts does for deals.
// Knobs (`--name=value` or BENCH_<NAME>): --records=10000 (the issue's size is 100000) --sp-rate=300 (edits/min)
//   --sp-seconds=60 --wait-seconds=900; BENCH_CRM_PARTS=backfill,capture. BENCH_DATABASE_URL: a real PostgreSQL.
import pg from "pg";
import { getDb } from "@/lib/db";
import { LISTS_PER_BATCH, runBackfill } from "@/lib/history/backfill";
import { hasProductRows } from "@/lib/history/product-rows";
import { startWorker } from "./history-capture";
import { LIMITS } from "./history-backfill";
import { partDb, progress } from "./history-env";
import { ChangeCollector, fillItems, fillLegacy, flag, sleep, startPortals, type Portals } from "./crm-env";
import { fmt, int, percentile, type BenchRow } from "./table";
import { errorMessage } from "@/lib/error-message";

const PAGE = 50;
const PER_REQUEST = LISTS_PER_BATCH * PAGE;
const SETUP_PER_ENTITY = 2; // the count, the fields (bench/history-backfill.ts)
const SP = 128;
const KEY_OF: Record<number, string> = { 7: "quote", 31: "smart_invoice", [SP]: `dynamic_${SP}` };

/**
 * The least time Bitrix24's default limits allow for a backfill of `counts` (records per entity key), from empty
 * buckets — bench/history-backfill.ts's rule with two additions: crm.item.list serves every CRM type (the legacy four
 * too, decision 015), so their operating time adds up under one method; and each record of a type with product rows
 * costs one crm.item.productrow.list command (50 to a request; 0.05 s of operating time each, a `.list` in the fake).
 */
export function mixedMinimum(counts: Record<string, number>, l = LIMITS) {
  const op: Record<string, number> = {};
  const add = (method: string, s: number) => {
    op[method] = (op[method] ?? 0) + s;
  };
  let listRequests = 0;
  let rowRequests = 0;
  for (const [type, n] of Object.entries(counts)) {
    const batches = Math.floor(n / PER_REQUEST) + 1;
    listRequests += batches + SETUP_PER_ENTITY;
    add("crm.item.list", (batches * LISTS_PER_BATCH + 1) * l.listOpS); // every type, the legacy four too (decision 015)
    if (hasProductRows(type) && n) {
      rowRequests += Math.ceil(n / PAGE);
      add("crm.item.productrow.list", n * l.listOpS);
    }
  }
  const requests = listRequests + rowRequests;
  const bucketS = Math.max(0, (requests - l.burst) / l.drain);
  const [method, opS] = Object.entries(op).sort((a, b) => b[1] - a[1])[0]!;
  const operatingS = Math.max(0, (l.windowS * (opS - l.operatingS)) / l.operatingS);
  return {
    listRequests,
    rowRequests,
    requests,
    bucketS,
    op,
    method,
    opS,
    operatingS,
    minimumS: Math.max(bucketS, operatingS),
  };
}

/** Deals, contacts, quotes, invoices and smart-process items: `total` records in all, a fifth each. */
function fill(env: Portals, total: number) {
  const p = env.state(0);
  const each = Math.floor(total / 5);
  fillLegacy(p, "deal", each);
  fillLegacy(p, "contact", each);
  for (const t of [7, 31, SP]) fillItems(p, t, each);
}

function countsOf(env: Portals) {
  const p = env.state(0);
  const counts: Record<string, number> = Object.fromEntries(Object.entries(p.crm).map(([e, m]) => [e, m.size]));
  for (const [t, store] of p.items.stores) counts[KEY_OF[t] ?? `dynamic_${t}`] = store.records.size;
  return counts;
}

export async function benchMixedBackfill(records: number): Promise<BenchRow[]> {
  const db = await partDb("crm_backfill");
  const env = await startPortals(db, { portals: 1, seed: { deals: 10, contacts: 10, companies: 10, leads: 10 } }).catch(
    async (e) => {
      await db.stop();
      throw e;
    },
  );
  try {
    fill(env, records);
    const portalId = await env.install(0, { backfill: false }); // the install's queued backfill: run here instead
    await env.defaultLimits(0);
    await env.control(0, "reset-counters");
    const counts = countsOf(env);
    const total = Object.values(counts).reduce((s, n) => s + n, 0);
    const min = mixedMinimum(counts);
    const full = mixedMinimum(Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, (n * 100_000) / total])));
    progress(`crm backfill: ${total} records (${JSON.stringify(counts)}), minimum ${fmt(min.minimumS)} s`);
    const started = performance.now();
    let calls = 0;
    for (let done = false; !done; calls++) {
      const run = await runBackfill(portalId);
      done = run.complete;
      // a method blocked by its operating time: the worker would run the queued continuation at retryAt
      if (run.retryAt) await sleep(Math.max(0, run.retryAt.getTime() - Date.now()));
    }
    const wallS = (performance.now() - started) / 1000;
    const snapshots = await getDb().crmSnapshot.groupBy({ by: ["entityType"], where: { portalId }, _count: true });
    const stored = Object.fromEntries(snapshots.map((s) => [s.entityType, s._count]));
    const missing = Object.entries(counts)
      .filter(([k, n]) => stored[k] !== n)
      .map(([k, n]) => `${k} ${stored[k] ?? 0}/${n}`);
    const rest = env.state(0).counters.rest;
    const sent = env.state(0).log.filter((e) => e.rest).length;
    const rows = rest["crm.item.productrow.list"] ?? 0;
    const batches = env.state(0).log.filter((e) => e.rest === "batch").length;
    progress(`crm backfill: ${wallS.toFixed(1)} s, ${sent} requests, ${calls} runBackfill calls`);
    const bench = "14 mixed backfill";
    const types = "deals, contacts, quotes, invoices (31), smart process (128), + 10 companies, 10 leads";
    return [
      {
        bench,
        metric: `wall time, ${int(total)} records: ${types}, ${db.kind}`,
        value: `${fmt(wallS)} s`,
        baseline: `limit-imposed minimum ${fmt(min.minimumS)} s`,
        note:
          `${min.requests} requests (${min.listRequests} count + fields + list batches, ${min.rowRequests} of ` +
          `product rows, 50 owners each); bucket (${min.requests}−50)/2 = ${fmt(min.bucketS)} s; operating ` +
          `${min.method} ${fmt(min.opS, 0)} s vs 480 s/10 min → ${fmt(min.operatingS)} s; min = the larger`,
      },
      {
        bench,
        metric: "portal requests sent",
        value: `${sent}: ${batches} batch, ${rows} productrow.list commands`,
        baseline: `${min.requests} at least`,
        note:
          `503s ${env.state(0).counters.served503}; ${calls} runBackfill ` +
          `call(s), 20 s budget each; snapshots ${missing.length ? `MISSING ${missing.join(", ")}` : "all stored"}`,
      },
      {
        bench,
        metric: "records/s",
        value: fmt(total / wallS, 0),
        baseline: min.minimumS >= 0.1 ? `minimum's pace ${fmt(total / min.minimumS, 0)}/s` : "minimum ≈ 0 s",
        note:
          `100 000 records in the same mix: minimum ${fmt(full.minimumS, 0)} s (${full.requests} requests, ` +
          `${full.method} ${fmt(full.opS, 0)} s of operating time)`,
      },
    ];
  } finally {
    await env.stop();
    await db.stop();
  }
}

export async function benchSpCapture(o: { perMin: number; editS: number; waitS: number }): Promise<BenchRow[]> {
  const count = Math.round((o.perMin * o.editS) / 60);
  const db = await partDb("crm_capture");
  const env = await startPortals(db, { portals: 1, seed: { deals: 10, contacts: 10, companies: 10, leads: 10 } }).catch(
    async (e) => {
      await db.stop();
      throw e;
    },
  );
  const client = new pg.Client({ connectionString: db.url });
  let worker: ReturnType<typeof startWorker> | null = null;
  try {
    fillItems(env.state(0), SP, count + 2);
    const portalId = await env.install(0);
    await env.defaultLimits(0);
    await client.connect();
    const c = new ChangeCollector(client);
    await c.skipExisting();
    const edit = async (i: number, id: number) => {
      const key = ChangeCollector.key(portalId, `dynamic_${SP}`, id, "title");
      c.made(key);
      await env.control(0, `items/${SP}/${id}`, { fields: { title: `bench edit ${i}` }, userId: 1 + (i % 4) });
      return key;
    };
    worker = startWorker();
    if (!(await c.waitFor([await edit(0, count + 1)], Date.now() + 120_000))) {
      throw new Error("the warm-up edit was never captured");
    }
    await sleep(6_000); // past the ONOFFLINEEVENT throttle (minTimeout 5 s): the idle edit gets its own notification
    const idle = await edit(1, count + 2);
    await c.waitFor([idle], Date.now() + 120_000);
    await env.control(0, "reset-counters");
    const keys: string[] = [];
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      const due = started + (i * 60_000) / o.perMin;
      if (due > Date.now()) await sleep(due - Date.now());
      keys.push(await edit(i, i + 1));
      if (i % 100 === 0) await c.poll();
    }
    const editsEnd = Date.now();
    const complete = await c.waitFor(keys, editsEnd + o.waitS * 1000);
    const lags = keys.map((k) => c.lagMs.get(k) ?? Infinity).sort((a, b) => a - b);
    const captured = lags.filter(Number.isFinite).length;
    const s = (ms: number) => (Number.isFinite(ms) ? fmt(ms / 1000) : "∞");
    const rest = env.state(0).counters.rest;
    const seconds = (editsEnd - started) / 1000;
    progress(`crm capture: ${captured}/${count} captured, ${complete ? "complete" : "incomplete"}`);
    const bench = "14 smart-process capture";
    return [
      {
        bench,
        metric: `lag edit → FieldChange p50 / p99 / max, ${o.perMin}/min for ${fmt(seconds, 0)} s, ${db.kind}`,
        value: `${s(percentile(lags, 50))} / ${s(percentile(lags, 99))} / ${s(lags.at(-1)!)} s`,
        baseline: `one edit alone: ${s(c.lagMs.get(idle)!)} s`,
        note: "item edit → ONCRMDYNAMICITEMUPDATE, offline queue → ONOFFLINEEVENT → drain → capture, one worker",
      },
      {
        bench,
        metric: "changes captured vs made",
        value: `${captured} / ${count}`,
        baseline: `made at ${fmt((count / seconds) * 60, 0)}/min`,
        note:
          `${env.state(0).log.filter((e) => e.rest === "batch").length} batch requests, ` +
          `${rest["event.offline.get"] ?? 0} event.offline.get, ` +
          `${rest["crm.item.list"] ?? 0} crm.item.list; recorded twice ${c.twice}, unexpected ${c.unexpected}; ` +
          `503s ${env.state(0).counters.served503}`,
      },
    ];
  } finally {
    await worker?.stop();
    await client.end().catch(() => undefined);
    await env.stop();
    await db.stop();
  }
}

export async function benchCrmCoverage(): Promise<BenchRow[]> {
  const parts = (process.env.BENCH_CRM_PARTS ?? "backfill,capture").split(",").map((p) => p.trim());
  const rows: BenchRow[] = [];
  const guard = async (name: string, work: () => Promise<BenchRow[]>) => {
    const t = Date.now();
    try {
      rows.push(...(await work()));
    } catch (e) {
      progress(`${name} failed: ${e instanceof Error ? e.stack : String(e)}`);
      const note = errorMessage(e);
      rows.push({ bench: `14 ${name}`, metric: "failed", value: "—", note });
    }
    progress(`${name} took ${fmt((Date.now() - t) / 1000, 0)} s`);
  };
  if (parts.includes("backfill")) await guard("mixed backfill", () => benchMixedBackfill(flag("records", 10_000)));
  if (parts.includes("capture")) {
    await guard("smart-process capture", () =>
      benchSpCapture({ perMin: flag("sp-rate", 300), editS: flag("sp-seconds", 60), waitS: flag("wait-seconds", 900) }),
    );
  }
  return rows;
}
