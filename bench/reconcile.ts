// `npm run bench -- reconcile` (issue 15 item 6) — nothing lost, and no portal starved, through the app's real path:
//   drops     N deal edits on a portal whose CRM events are bound online while the fake loses 30 % of the deliveries
//             (faults.dropEvents = 0.3: every 3rd or 4th, deterministically — tests/fake-portal/core.ts; Bitrix24 never
//             resends an online event, b24restdocs api-reference/events/index.md). A real worker process (runWorker,
//             lib/composition/main.ts) captures what arrives; its reconciliation sweep (every minute here) finds the rest.
//             Prints the distinct field changes recorded vs made, none twice, and the time to the last recovered one.
//   fairness  capture lag of P small portals' live edits while one more portal backfills R records, next to the same
//             edits without that backfill; the ratio is the reading (target ≤ 1.2).
// Knobs (`--name=value` or BENCH_<NAME>): --edits=300 --edit-rate=600 (edits/min) --portals=10 --records=20000
//   --fair-rate=120 (edits/min over all small portals) --fair-seconds=30 --wait-seconds=900 --split-workers=1 (0: all
//   lanes in one worker process) --big-apart=1 (0: the big portal in the same fake process as the small ones);
//   BENCH_RECONCILE_PARTS=drops,fairness. BENCH_DATABASE_URL: a real PostgreSQL (else PGlite).
import pg from "pg";
import { getDb } from "@/lib/db";
import { startWorker } from "./history-capture";
import { partDb, progress } from "./history-env";
import { ChangeCollector, dueJobs, fillLegacy, flag, inChunks, sleep, startPortals, type Portals } from "./crm-env";
import { fmt, int, percentile, type BenchRow } from "./table";
import { errorMessage } from "@/lib/error-message";

const FIELDS = ["TITLE", "COMMENTS", "UF_CRM_TEXT"]; // string fields: every edit is exactly one change
const DEALS = 300; // per small portal in the fairness bench: 200 portals × 300 deals edited once each per phase

async function editDeal(
  env: Portals,
  c: ChangeCollector,
  i: number,
  portal: number,
  deal: number,
  field: string,
  text: string,
) {
  const key = ChangeCollector.key(env.ids[portal]!, "deal", deal, field);
  c.made(key);
  await env.control(portal, `crm/deal/${deal}`, { fields: { [field]: text }, userId: 1 + (i % 4) });
  return key;
}

/** Waits until the worker has done what was due (install jobs, first schedules): a phase starts on a quiet system. */
async function quiet(maxS: number) {
  const until = Date.now() + maxS * 1000;
  while ((await dueJobs()) > 0 && Date.now() < until) await sleep(1000);
}

export async function benchDrops(o: { edits: number; perMin: number; waitS: number }): Promise<BenchRow[]> {
  const db = await partDb("reconcile");
  const env = await startPortals(db, {
    portals: 1,
    seed: { deals: o.edits + 1, contacts: 5, companies: 5, leads: 5 },
  }).catch(async (e) => {
    await db.stop();
    throw e;
  });
  const client = new pg.Client({ connectionString: db.url });
  let worker: ReturnType<typeof startWorker> | null = null;
  try {
    const portalId = await env.install(0, { online: true });
    // The shortest period a portal can set (whole minutes); the worker's schedule looks every 30 s.
    await getDb().portal.update({ where: { id: portalId }, data: { reconcileEveryMin: 1 } });
    await env.defaultLimits(0);
    await client.connect();
    const c = new ChangeCollector(client);
    await c.skipExisting();
    worker = startWorker();
    const warm = await editDeal(env, c, 0, 0, o.edits + 1, "TITLE", "warm-up");
    if (!(await c.waitFor([warm], Date.now() + 120_000))) throw new Error("the warm-up edit was never captured");
    await quiet(120);
    const counters = env.state(0).counters;
    const before = { delivered: counters.eventsDelivered, dropped: counters.eventsDropped };
    await env.control(0, "faults", { dropEvents: 0.3 });
    const keys: string[] = [];
    const started = Date.now();
    try {
      for (let i = 0; i < o.edits; i++) {
        const due = started + (i * 60_000) / o.perMin;
        if (due > Date.now()) await sleep(due - Date.now());
        keys.push(await editDeal(env, c, i, 0, i + 1, FIELDS[i % FIELDS.length]!, `bench edit ${i}`));
        if (i % 100 === 0) await c.poll();
      }
    } finally {
      await env.control(0, "faults", { dropEvents: 0 });
    }
    const editsEnd = Date.now();
    const dropped = counters.eventsDropped - before.dropped;
    const delivered = counters.eventsDelivered - before.delivered;
    progress(
      `reconcile: ${o.edits} edits in ${fmt((editsEnd - started) / 1000)} s, ` +
        `${dropped} of ${dropped + delivered} ` +
        "event deliveries dropped; waiting for the sweep",
    );
    const complete = await c.waitFor(keys, editsEnd + o.waitS * 1000);
    await sleep(65_000); // one more sweep period: a change recorded twice would show now
    await c.poll();
    const recorded = keys.filter((k) => c.lagMs.has(k));
    const by = (s: string) => recorded.filter((k) => c.source.get(k) === s);
    const last = (ks: string[]) => (ks.length ? Math.max(...ks.map((k) => c.storedAt.get(k)!)) - editsEnd : NaN);
    const s = (ms: number) => (Number.isFinite(ms) ? `${fmt(ms / 1000)} s` : "—");
    const bench = "15 reconcile";
    progress(`reconcile: ${recorded.length}/${keys.length} recorded, ${complete ? "complete" : "incomplete"}`);
    return [
      {
        bench,
        metric: `changes recorded vs made, 30 % of events dropped, ${db.kind}`,
        value: `${recorded.length} / ${keys.length}`,
        baseline: `${dropped} of ${dropped + delivered} deliveries dropped`,
        note:
          `from events ${by("event").length}, by the sweep ${by("reconciled").length}; recorded twice ` +
          `${c.twice}; unexpected rows ${c.unexpected}; ${o.edits} edits at ${o.perMin}/min, online bindings`,
      },
      {
        bench,
        metric: "time to the last recovered change, after the last edit",
        value: s(last(by("reconciled"))),
        baseline: "sweep period 1 min (reconcileEveryMin), schedule tick 30 s",
        note:
          `last change from an event ${s(last(by("event")))} after the last edit; ` +
          `${complete ? "all" : "NOT all"} recorded (waited up to ${o.waitS} s)`,
      },
    ];
  } finally {
    await worker?.stop();
    await client.end().catch(() => undefined);
    await env.stop();
    await db.stop();
  }
}

interface Phase {
  keys: string[];
  seconds: number;
  complete: boolean;
  backlog: number;
}

/** offline.drain jobs due and not started: the capture lane's backlog (fallback polls pile up when it falls behind). */
const drainBacklog = () =>
  getDb().job.count({ where: { kind: "offline.drain", status: "pending", runAt: { lte: new Date() } } });

/** Edits round-robin over the small portals at `perMin`, while `more()` says so, then waits for their capture. */
async function editPhase(
  env: Portals,
  c: ChangeCollector,
  o: { portals: number; perMin: number; field: string; more: (elapsedS: number) => Promise<boolean>; waitS: number },
): Promise<Phase> {
  const keys: string[] = [];
  const started = Date.now();
  for (let i = 0; await o.more((Date.now() - started) / 1000); i++) {
    const due = started + (i * 60_000) / o.perMin;
    if (due > Date.now()) await sleep(due - Date.now());
    const portal = i % o.portals;
    const deal = 1 + (Math.floor(i / o.portals) % DEALS); // a key edited twice would be timed from its second edit
    keys.push(await editDeal(env, c, i, portal, deal, o.field, `fair ${o.field} ${i}`));
    if (i % 100 === 0) await c.poll();
  }
  const seconds = (Date.now() - started) / 1000;
  const backlog = await drainBacklog();
  const complete = await c.waitFor([...new Set(keys)], Date.now() + o.waitS * 1000);
  return { keys: [...new Set(keys)], seconds, complete, backlog };
}

/**
 * Where a phase's capture time went, p50 / p99 in seconds: an offline.drain job waiting to be claimed and running, an
 * inbox row waiting and being processed (read, diffed, stored). A diagnosis printed with the phase, not a target.
 */
async function stages(client: pg.Client, from: Date, to: Date, big?: string): Promise<string> {
  const q = async (sql: string) =>
    (await client.query<{ p50: number | null; p99: number | null; n: string }>(sql, [from, to])).rows[0]!;
  const pct = (expr: string) =>
    `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${expr}) AS p50, ` +
    `percentile_cont(0.99) WITHIN GROUP (ORDER BY ${expr}) AS p99, count(*)::text AS n`;
  const secs = (a: string, b: string) => `EXTRACT(EPOCH FROM ${b} - ${a})`;
  const drainWait = await q(
    `SELECT ${pct(secs(`"runAt"`, `"lockedAt"`))} FROM "Job"
     WHERE kind = 'offline.drain' AND status = 'done' AND "runAt" BETWEEN $1 AND $2`,
  );
  const drainRun = await q(
    `SELECT ${pct(secs(`"lockedAt"`, `"finishedAt"`))} FROM "Job"
     WHERE kind = 'offline.drain' AND status = 'done' AND "runAt" BETWEEN $1 AND $2`,
  );
  const inboxWait = await q(
    `SELECT ${pct(secs(`"receivedAt"`, `"lockedAt"`))} FROM "EventInbox"
     WHERE "processedAt" IS NOT NULL AND "receivedAt" BETWEEN $1 AND $2`,
  );
  const inboxRun = await q(
    `SELECT ${pct(secs(`"lockedAt"`, `"processedAt"`))} FROM "EventInbox"
     WHERE "processedAt" IS NOT NULL AND "receivedAt" BETWEEN $1 AND $2`,
  );
  // the longest drain waits, when in the phase they fell due: a stall at one moment or waits spread through it
  // (big) marks the backfilling portal's own drains: a wait of its own is not a wait of the others' capture
  const longest = await client.query<{ at: number; wait: number; portal: string }>(
    `SELECT EXTRACT(EPOCH FROM "runAt" - $1) AS at, ${secs(`"runAt"`, `"lockedAt"`)} AS wait,
       "portalId" AS portal FROM "Job"
     WHERE kind = 'offline.drain' AND status = 'done' AND "runAt" BETWEEN $1 AND $2 ORDER BY 2 DESC LIMIT 8`,
    [from, to],
  );
  const stalls = longest.rows
    .map((r) => `+${fmt(Number(r.at), 0)}s:${fmt(Number(r.wait), 1)}${r.portal === big ? "(big)" : ""}`)
    .join(" ");
  // and the longest runs: a capture round waits for its slowest drain before it claims the next ones
  const slowest = await client.query<{ at: number; run: number; portal: string }>(
    `SELECT EXTRACT(EPOCH FROM "lockedAt" - $1) AS at, ${secs(`"lockedAt"`, `"finishedAt"`)} AS run,
       "portalId" AS portal FROM "Job"
     WHERE kind = 'offline.drain' AND status = 'done' AND "runAt" BETWEEN $1 AND $2 ORDER BY 2 DESC LIMIT 5`,
    [from, to],
  );
  const runs = slowest.rows
    .map((r) => `+${fmt(Number(r.at), 0)}s:${fmt(Number(r.run), 1)}${r.portal === big ? "(big)" : ""}`)
    .join(" ");
  const f = (r: { p50: number | null; p99: number | null; n: string }) =>
    `${fmt(Number(r.p50 ?? NaN), 2)}/${fmt(Number(r.p99 ?? NaN), 2)} (${r.n})`;
  return (
    `drain wait ${f(drainWait)}, run ${f(drainRun)}; inbox wait ${f(inboxWait)}, ` +
    `processing ${f(inboxRun)} s p50/p99 (n); longest drain waits (due at +s:waited s) ${stalls}; ` +
    `longest runs (started at +s:ran s) ${runs}`
  );
}

function lags(c: ChangeCollector, p: Phase) {
  const l = p.keys.map((k) => c.lagMs.get(k) ?? Infinity).sort((a, b) => a - b);
  return { p50: percentile(l, 50), p99: percentile(l, 99), max: l.at(-1) ?? NaN, n: l.filter(Number.isFinite).length };
}

export async function benchFairness(o: {
  portals: number;
  records: number;
  perMin: number;
  editS: number;
  waitS: number;
  splitWorkers?: boolean;
  /** the big portal's fake in a process of its own (the default) */
  bigApart?: boolean;
}): Promise<BenchRow[]> {
  const db = await partDb("fairness");
  const big = o.portals; // the last portal: installed, with its big backfill, between the two phases
  const seed = { deals: DEALS, contacts: 3, companies: 2, leads: 2 };
  // the big portal in a process of its own (bench/fake-child.ts), as a real portal is a server of its own: in the one
  // fake process its million records' answers and garbage collection stalled every small portal (2026-12-02)
  const apart = o.bigApart ? { contacts: o.records } : undefined;
  const env = await startPortals(db, { portals: o.bigApart ? o.portals : o.portals + 1, seed, apart }).catch(
    async (e) => {
      await db.stop();
      throw e;
    },
  );
  const client = new pg.Client({ connectionString: db.url });
  let worker: ReturnType<typeof startWorker> | null = null;
  try {
    if (!apart) fillLegacy(env.state(big), "contact", o.records);
    const t0 = Date.now();
    await inChunks([...Array(o.portals).keys()], 4, (i) => env.install(i));
    for (let i = 0; i < o.portals; i++) await env.defaultLimits(i);
    progress(`fairness: ${o.portals} portals installed and backfilled in ${fmt((Date.now() - t0) / 1000)} s`);
    await client.connect();
    const c = new ChangeCollector(client);
    await c.skipExisting();
    // capture and background lanes in two worker processes (WORKER_LANES), as `npm start` runs them; --split-workers=0: one
    const split = o.splitWorkers ? startWorker("background") : null;
    worker = startWorker(o.splitWorkers ? "capture" : "all");
    const stopBoth = worker.stop;
    worker.stop = async () => {
      await Promise.all([stopBoth(), split?.stop()]);
    };
    await quiet(300); // the install jobs and every portal's first schedules (probe, sweep, keep-alive)
    progress(`fairness: worker quiet after ${fmt((Date.now() - t0) / 1000)} s; baseline phase`);
    const aFrom = new Date();
    const alone = await editPhase(env, c, { ...o, field: "TITLE", more: async (s) => s < o.editS });
    const a = lags(c, alone);
    progress(
      `fairness: baseline p50 ${fmt(a.p50 / 1000)} s, p99 ${fmt(a.p99 / 1000)} s, ` +
        `${a.n}/${alone.keys.length}; ` +
        `drain backlog ${alone.backlog}; ${await stages(client, aFrom, new Date())}`,
    );
    await quiet(300);

    await env.install(big, { backfill: false, defaultLimits: true }); // its backfill is queued: the worker runs it
    const bigId = env.ids[big]!;
    const contacts = { portalId: bigId, entityType: "contact" };
    const done = async () =>
      (await getDb().backfillRun.findUnique({ where: { portalId_entityType: contacts } }))?.status === "done";
    const bfStart = Date.now();
    progress(`fairness: portal ${big} installed, backfilling ${o.records} contacts; loaded phase`);
    // Edits for exactly the baseline's length while the backfill runs (it runs on past them): like against like. A
    // longer loaded phase measured a capture lane that cannot keep up with the edit rate alone — its backlog grows
    // with the phase's length — as the backfill's fault (2026-12-02: 927 edits against 101, lag ×3 while the backfill
    // had read 2 500 contacts).
    const bFrom = new Date();
    const loaded = await editPhase(env, c, {
      ...o,
      field: "COMMENTS",
      more: async (s) => s < o.editS && !(await done()),
    });
    const snapshots = await getDb().crmSnapshot.count({ where: contacts });
    const finished = (await getDb().backfillRun.findUnique({ where: { portalId_entityType: contacts } }))?.finishedAt;
    const bfS = finished ? (finished.getTime() - bfStart) / 1000 : NaN;
    progress(`fairness: ${snapshots}/${o.records} contacts backfilled; ${loaded.keys.length} loaded-phase edits`);
    const b = lags(c, loaded);
    progress(`fairness: loaded p50 ${fmt(b.p50 / 1000)} s; ${await stages(client, bFrom, new Date(), bigId)}`);
    const s = (ms: number) => (Number.isFinite(ms) ? fmt(ms / 1000) : "∞");
    const bench = "15 fairness";
    return [
      {
        bench,
        metric:
          `capture lag p50 / p99 / max of ${o.portals} portals' edits, one portal backfilling ` +
          `${int(o.records)} contacts, ${db.kind}`,
        value: `${s(b.p50)} / ${s(b.p99)} / ${s(b.max)} s`,
        baseline: `without it: ${s(a.p50)} / ${s(a.p99)} / ${s(a.max)} s`,
        note:
          `ratio p50 ${fmt(b.p50 / a.p50, 2)}, p99 ${fmt(b.p99 / a.p99, 2)} (target ≤ 1.2); ` +
          `${b.n}/${loaded.keys.length}` +
          ` and ${a.n}/${alone.keys.length} captured, ${o.perMin} edits/min over ${fmt(loaded.seconds, 0)} s / ` +
          `${fmt(alone.seconds, 0)} s; offline queue, ${o.splitWorkers ? "capture and background lanes in two worker processes (as npm start runs them)" : "one worker process (all lanes)"}; ` +
          `the big portal's fake ${o.bigApart ? "in a process of its own" : "in the small portals' process"}; offline.drain jobs due at the phases' ` +
          `last edit: ${loaded.backlog} / ${alone.backlog}`,
      },
      {
        bench,
        metric: "the big backfill during the loaded phase",
        value: `${int(snapshots)} / ${int(o.records)} contacts`,
        baseline: "Bitrix24 default limits (burst 50, 2/s, 480 s operating)",
        note: Number.isFinite(bfS)
          ? `done ${fmt(bfS, 0)} s after its install; the edits ran ${fmt(loaded.seconds, 0)} s`
          : `not done when the edits stopped (${fmt(loaded.seconds, 0)} s)`,
      },
    ];
  } finally {
    await worker?.stop();
    await client.end().catch(() => undefined);
    await env.stop();
    await db.stop();
  }
}

export async function benchReconcile(): Promise<BenchRow[]> {
  const parts = (process.env.BENCH_RECONCILE_PARTS ?? "drops,fairness").split(",").map((p) => p.trim());
  const rows: BenchRow[] = [];
  const waitS = flag("wait-seconds", 900);
  const guard = async (name: string, work: () => Promise<BenchRow[]>) => {
    const t = Date.now();
    try {
      rows.push(...(await work()));
    } catch (e) {
      progress(`${name} failed: ${e instanceof Error ? e.stack : String(e)}`);
      const note = errorMessage(e);
      rows.push({ bench: `15 ${name}`, metric: "failed", value: "—", note });
    }
    progress(`${name} took ${fmt((Date.now() - t) / 1000, 0)} s`);
  };
  if (parts.includes("drops")) {
    await guard("reconcile", () => benchDrops({ edits: flag("edits", 300), perMin: flag("edit-rate", 600), waitS }));
  }
  if (parts.includes("fairness")) {
    // Defaults finish in about 3 minutes on a 2-core machine; the issue's sizes: --portals=200 --records=1000000.
    await guard("fairness", () =>
      benchFairness({
        portals: flag("portals", 10),
        records: flag("records", 20_000),
        perMin: flag("fair-rate", 120),
        editS: flag("fair-seconds", 30),
        waitS,
        splitWorkers: flag("split-workers", 1) === 1,
        bigApart: flag("big-apart", 1) === 1,
      }),
    );
  }
  return rows;
}
