// Bench 6.2 — capture lag at a sustained edit rate under Bitrix24's default limits, through the app's real path:
// the fake portal's edit → offline queue → ONOFFLINEEVENT to the app's events route → offline drain → inbox →
// capture, worked by a real worker process (lib/composition/main.ts). The harness only puts edits in and reads FieldChange
// rows out, so it measures whatever capture strategy lib/history and lib/events implement.
import { spawn } from "node:child_process";
import pg from "pg";
import { runBackfill } from "@/lib/history/backfill";
import { partDb, progress, startInstalledApp, type InstalledApp } from "./history-env";
import { fmt, percentile, type BenchRow } from "./table";
import { sleep } from "@/lib/sleep";

const FIELDS = ["TITLE", "COMMENTS", "UF_CRM_TEXT"]; // string fields: every edit is exactly one change

/** `npm run worker`'s entry point in its own process group (stopped by its id), on the bench's configuration. */
export function startWorker(lanes: "all" | "capture" | "background" = "all") {
  const keys = [
    "PATH",
    "HOME",
    "TMPDIR",
    "DATABASE_URL",
    "APP_URL",
    "APP_SECRET",
    "BITRIX_CLIENT_ID",
    "BITRIX_CLIENT_SECRET",
    "BITRIX_OAUTH_URL",
    "BITRIX_OAUTH_ALLOWED",
    "BITRIX_ALLOW_HTTP",
    "LOG_LEVEL",
  ];
  const env = {
    ...Object.fromEntries(keys.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
    WORKER_LANES: lanes,
  } as unknown as NodeJS.ProcessEnv;
  const child = spawn("npx", ["tsx", "--conditions=react-server", "lib/composition/main.ts"], {
    env,
    stdio: "ignore",
    detached: true,
  });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* gone */
    }
  };
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      signal("SIGTERM");
      if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) signal("SIGKILL");
    },
  };
}

/** Reads FieldChange rows as they appear and matches them to the edits (by record and field). */
class Collector {
  readonly editAt = new Map<string, number>();
  readonly lagMs = new Map<string, number>();
  unexpected = 0;
  lastCapturedAt = 0;
  private maxId = 0;
  private readonly seen = new Set<string>();
  constructor(
    private readonly client: pg.Client,
    private readonly portalId: string,
  ) {}

  async poll(): Promise<void> {
    // A window below the highest id seen: a transaction that took its id earlier may commit later.
    const { rows } = await this.client.query<{ id: string; key: string; at: number }>(
      `SELECT f.id::text AS id, f."entityId" || '|' || f.field AS key, EXTRACT(EPOCH FROM f."createdAt") * 1000 AS at FROM "FieldChange" f
       WHERE f."portalId" = $1 AND f."entityType" = 'deal' AND f.id > $2::bigint ORDER BY f.id`,
      [this.portalId, String(Math.max(0, this.maxId - 2000))],
    );
    for (const r of rows) {
      if (this.seen.has(r.id)) continue;
      this.seen.add(r.id);
      this.maxId = Math.max(this.maxId, Number(r.id));
      const sent = this.editAt.get(r.key);
      if (sent === undefined || this.lagMs.has(r.key)) {
        this.unexpected++;
        continue;
      }
      this.lagMs.set(r.key, Number(r.at) - sent);
      this.lastCapturedAt = Math.max(this.lastCapturedAt, Number(r.at));
    }
  }

  async waitFor(keys: string[], untilMs: number): Promise<boolean> {
    for (;;) {
      await this.poll();
      if (keys.every((k) => this.lagMs.has(k))) return true;
      if (Date.now() > untilMs) return false;
      await sleep(500);
    }
  }
}

async function edit(env: InstalledApp, c: Collector, i: number, id: number): Promise<string> {
  const field = FIELDS[i % FIELDS.length]!;
  const key = `${id}|${field}`;
  c.editAt.set(key, Date.now());
  await env.control(`crm/deal/${id}`, { fields: { [field]: `bench edit ${i}` }, userId: 1 + (i % 4) });
  return key;
}

/** `count` edits of distinct deals (ids 1…count), one every 60 000 / perMin ms on a fixed schedule. */
async function editAtRate(env: InstalledApp, c: Collector, count: number, perMin: number) {
  const started = Date.now();
  const gap = 60_000 / perMin;
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * gap;
    if (due > Date.now()) await sleep(due - Date.now());
    keys.push(await edit(env, c, i, i + 1));
    if (i % 200 === 0) await c.poll();
  }
  return { keys, seconds: (Date.now() - started) / 1000 };
}

export interface CaptureOptions {
  perMin: number;
  editS: number;
  waitS: number;
  rules?: number;
}

/**
 * `n` watch rules on the portal (lib/watch): mostly personal rules of staff (users 5…) on deals they are responsible
 * for — matched against every change, firing for none of the bench's deals (assigned to users 1–4) — plus one portal
 * rule in 100 that tells the responsible person of every COMMENTS change, so deliveries run too.
 */
async function seedRules(url: string, portalId: string, n: number) {
  if (!n) return;
  const fields = ["TITLE", "COMMENTS", "UF_CRM_TEXT", "STAGE_ID", "OPPORTUNITY", "ASSIGNED_BY_ID"];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) {
      const portal = i % 100 === 0;
      await client.query(
        `INSERT INTO "WatchRule" (id, "portalId", "createdById", scope, name, "entityType", fields, condition,
        "onlyMine", "notifyResponsible") VALUES (gen_random_uuid()::text, $1, $2, $3, $4, 'deal', $5, 'changed', $6, $7)`,
        [
          portalId,
          5 + (i % 50),
          portal ? "portal" : "personal",
          `bench rule ${i}`,
          portal ? ["COMMENTS"] : [fields[i % fields.length]!, fields[(i + 1) % fields.length]!],
          !portal,
          portal,
        ],
      );
    }
  } finally {
    await client.end();
  }
}

export async function benchCapture(o: CaptureOptions): Promise<BenchRow[]> {
  const count = Math.round((o.perMin * o.editS) / 60);
  const db = await partDb("capture");
  const env = await startInstalledApp(db, count + 2).catch(async (e) => {
    await db.stop();
    throw e;
  });
  const client = new pg.Client({ connectionString: db.url });
  let worker: ReturnType<typeof startWorker> | null = null;
  try {
    while (!(await runBackfill(env.portalId)).complete); // the baseline every diff needs
    await seedRules(db.url, env.portalId, o.rules ?? 0);
    await env.defaultLimits();
    await client.connect();
    const c = new Collector(client, env.portalId);
    worker = startWorker();
    // Warm-up (worker start, field metadata, user names), then one edit on an idle system: the floor of the lag.
    if (!(await c.waitFor([await edit(env, c, 0, count + 1)], Date.now() + 120_000)))
      throw new Error("the warm-up edit was never captured");
    await sleep(6_000); // past the ONOFFLINEEVENT throttle (minTimeout 5 s), so the idle edit gets its own notification
    const idle = await edit(env, c, 1, count + 2);
    await c.waitFor([idle], Date.now() + 120_000);
    await env.control("reset-counters");
    progress(`capture: idle edit ${fmt(c.lagMs.get(idle)! / 1000)} s; editing ${count} deals at ${o.perMin}/min`);
    const load = await editAtRate(env, c, count, o.perMin);
    const editsEnd = Date.now();
    const complete = await c.waitFor(load.keys, editsEnd + o.waitS * 1000);
    progress(
      `capture: ${load.keys.filter((k) => c.lagMs.has(k)).length}/${count} captured, ${complete ? "complete" : "incomplete"} ${fmt((Date.now() - editsEnd) / 1000)} s after the last edit`,
    );
    return captureRows(o, env, c, { ...load, editsEnd, complete, idleMs: c.lagMs.get(idle)!, kind: db.kind });
  } finally {
    await worker?.stop();
    await client.end().catch(() => undefined);
    await env.stop();
    await db.stop();
  }
}

function captureRows(
  o: CaptureOptions,
  env: InstalledApp,
  c: Collector,
  r: { keys: string[]; seconds: number; editsEnd: number; complete: boolean; idleMs: number; kind: string },
): BenchRow[] {
  const lags = r.keys.map((k) => c.lagMs.get(k) ?? Infinity).sort((a, b) => a - b);
  const captured = lags.filter(Number.isFinite).length;
  const waited = (Date.now() - r.editsEnd) / 1000;
  const s = (ms: number) => (Number.isFinite(ms) ? fmt(ms / 1000) : `> ${fmt(waited, 0)}`);
  const requests: Record<string, number> = {};
  for (const e of env.state.log) if (e.rest) requests[e.rest] = (requests[e.rest] ?? 0) + 1;
  const fetches = requests.batch ?? 0;
  const span = (c.lastCapturedAt - (r.editsEnd - r.seconds * 1000)) / 1000;
  const bench = o.rules ? `17 watch rules (${o.rules})` : "6 history capture";
  const achieved = (r.keys.length / r.seconds) * 60;
  return [
    {
      bench,
      metric: `lag edit → FieldChange p50 / p99 / max, ${o.perMin}/min for ${fmt(r.seconds, 0)} s, ${r.kind}`,
      value: `${s(percentile(lags, 50))} / ${s(percentile(lags, 99))} / ${s(lags.at(-1)!)} s`,
      baseline: `one edit alone: ${s(r.idleMs)} s`,
      note: "offline queue → ONOFFLINEEVENT (minTimeout 5 s) → drain → inbox → capture, one worker process",
    },
    {
      bench,
      metric: "changes captured vs made",
      value: `${captured} / ${r.keys.length}`,
      baseline: `made at ${fmt(achieved, 0)}/min (target ${o.perMin})`,
      note: `${r.complete ? "all" : "NOT all"} stored ${fmt((c.lastCapturedAt - r.editsEnd) / 1000)} s after the last edit (waited up to ${o.waitS} s); ${c.unexpected} unexpected rows`,
    },
    {
      bench,
      metric: "capture throughput, changes/s",
      value: fmt(captured / Math.max(span, 1e-3), 1),
      baseline: `${fmt(achieved / 60, 1)}/s offered; 2 req/s allowed`,
      note: `${fetches} batch requests for ${captured} changes (${fmt(fetches / Math.max(captured, 1), 2)} per change), ${requests["event.offline.get"] ?? 0} event.offline.get; 503s: ${env.state.counters.served503}`,
    },
  ];
}
