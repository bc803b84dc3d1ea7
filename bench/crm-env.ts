// Set-up shared by bench/reconcile.ts and bench/crm-coverage.ts: the app's Bitrix24-facing routes over HTTP, a fake
// Bitrix24 with any number of portals (the app installed into each on demand), a real worker process, and a collector
// that matches stored FieldChange rows to the edits a bench made — the parts bench/history-env.ts gives one portal.
import { spawn } from "node:child_process";
import pg from "pg";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { runBackfill } from "@/lib/history/backfill";
import { startFakeBitrix, type FakeOptions } from "../tests/fake-portal/index";
import type { CrmRecord, PortalState } from "../tests/fake-portal/types";
import { startAppServer } from "../tests/support/app-server";
import { pointAppAt, type BenchDb } from "./history-env";

import { sleep } from "@/lib/sleep";
export { sleep };

/** `--name=value` on the command line (`npm run bench -- reconcile --records=100000`), else BENCH_<NAME>, else `d`. */
export function flag(name: string, d: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const v = Number(arg ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`]);
  return Number.isFinite(v) && v >= 0 ? v : d; // 0 is a value: --split-workers=0, --big-apart=0
}

/** Runs `work` over `items`, `n` at a time. */
export async function inChunks<T>(items: T[], n: number, work: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(work));
}

/** `count` records of one store in all, copies of the seeded ones with fresh IDs (a bench's data, set in place). */
export function fillStore(records: Map<number, CrmRecord>, count: number, nextId: () => number) {
  const templates = [...records.values()];
  if (!templates.length) throw new Error("no seeded record to copy");
  while (records.size < count) {
    const id = nextId();
    const t = templates[id % templates.length]!;
    records.set(id, { ...t, ID: typeof t.ID === "number" ? id : String(id), TITLE: `${String(t.TITLE ?? "")} ${id}` });
  }
}

/** Adds copies of a portal's seeded legacy records (deals, contacts…) up to `count`. */
export function fillLegacy(p: PortalState, entity: "deal" | "contact" | "company" | "lead", count: number) {
  fillStore(p.crm[entity], count, () => p.nextId[entity]++);
}

/** Adds copies of a portal's seeded items of one type (quotes 7, invoices 31, smart process 128) up to `count`. */
export function fillItems(p: PortalState, entityTypeId: number, count: number) {
  const store = p.items.stores.get(entityTypeId);
  if (!store) throw new Error(`no item type ${entityTypeId}`);
  fillStore(store.records, count, () => store.nextId++);
}

/** A fake Bitrix24 with `portals` portals seeded alike; the app is installed into each by `install(i)`. */
export async function startPortals(
  db: BenchDb,
  o: { portals: number; seed: FakeOptions["seed"]; apart?: { contacts: number } },
) {
  const app = await startAppServer();
  const restore = await pointAppAt({ DATABASE_URL: db.url, APP_URL: app.url });
  const fake = await startFakeBitrix({
    portals: o.portals,
    seed: o.seed,
    app: { clientId: process.env.BITRIX_CLIENT_ID!, clientSecret: process.env.BITRIX_CLIENT_SECRET!, appUrl: app.url },
  });
  // `apart`: one more portal, portal #`o.portals`, in a process of its own (bench/fake-child.ts), with its contacts
  const child = o.apart ? await startFakeChild(app.url, o.seed, o.apart.contacts) : null;
  const oauth = [fake.oauthUrl, ...(child ? [child.oauthUrl] : [])].join(",");
  Object.assign(process.env, { BITRIX_OAUTH_URL: fake.oauthUrl, BITRIX_OAUTH_ALLOWED: oauth });
  resetEnvForTests();
  const ids: string[] = [];
  const apartOnly = (i: number) => {
    if (child && i === o.portals) throw new Error(`portal ${i} runs in a process of its own: no state here`);
  };
  const state = (i: number) => (apartOnly(i), fake.fake.portals[i]!);
  const baseUrl = (i: number) => (child && i === o.portals ? child.baseUrl : fake.portals[i]!.baseUrl);
  const memberId = (i: number) => (child && i === o.portals ? child.memberId : fake.portals[i]!.memberId);
  const control = async (i: number, route: string, body: unknown = {}) => {
    const res = await fetch(`${baseUrl(i)}/_fake/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`/_fake/${route} on portal ${i}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  /** Bitrix24's default plan on portal i and on the app's copy of its limits, both buckets empty. */
  const defaultLimits = async (i: number) => {
    await control(i, "plan", { burst: 50, drain: 2, operatingLimit: 480 });
    Object.assign(state(i).bucket, { level: 0, at: Date.now() });
    state(i).operating.clear();
    await getDb().portal.update({ where: { id: ids[i] }, data: { rateBurst: 50, rateDrainPerSec: 2 } });
    await getDb().$executeRaw`UPDATE "RateBucket" SET level = 0, "blockedUntil" = NULL, "updatedAt" = clock_timestamp()
      WHERE "portalId" = ${ids[i]}`;
    await getDb().methodOperating.deleteMany({ where: { portalId: ids[i] } });
  };
  return {
    app,
    fake,
    ids,
    state,
    control,
    defaultLimits,
    /**
     * Installs the app, under raised limits (set-up is quick) unless `defaultLimits`; `online`: CRM events bound
     * online, not to the offline queue; `backfill: false` leaves the install's backfill to the worker.
     */
    async install(i: number, opts: { online?: boolean; backfill?: boolean; defaultLimits?: boolean } = {}) {
      if (!opts.defaultLimits) await control(i, "plan", { burst: 100_000, drain: 100_000 });
      if (opts.online) await control(i, "features", { code: "rest_offline_extended", value: "N" });
      await control(i, "install", { mode: "ui", finish: true });
      const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: memberId(i) } });
      ids[i] = portal.id;
      if (!opts.defaultLimits) {
        const data = { rateBurst: 100_000, rateDrainPerSec: 100_000 };
        await getDb().portal.update({ where: { id: portal.id }, data });
      }
      if (opts.backfill !== false) while (!(await runBackfill(portal.id)).complete); // the baseline every diff needs
      return portal.id;
    },
    async stop() {
      await restore();
      await child?.stop();
      await fake.stop();
      await app.stop();
    },
  };
}

/** bench/fake-child.ts started, its addresses read from its first line. */
async function startFakeChild(appUrl: string, seed: FakeOptions["seed"], contacts: number) {
  const env = {
    ...process.env,
    APP_URL: appUrl,
    FAKE_CHILD_SEED: JSON.stringify(seed ?? {}),
    FAKE_CHILD_CONTACTS: String(contacts),
  };
  const proc = spawn("npx", ["tsx", "--conditions=react-server", "bench/fake-child.ts"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, s); // its process group: npx, tsx and the node process it starts
    } catch {
      /* gone */
    }
  };
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    proc.once("exit", (code) => reject(new Error(`the fake portal's process exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(line) as { baseUrl: string; memberId: string; oauthUrl: string };
  return {
    ...ready,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      signal("SIGTERM");
      if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) signal("SIGKILL");
    },
  };
}
export type Portals = Awaited<ReturnType<typeof startPortals>>;

/** Jobs due now and not finished: what a worker still has to do before a measurement starts on a quiet system. */
export async function dueJobs(): Promise<number> {
  return getDb().job.count({ where: { status: { in: ["pending", "running"] }, runAt: { lte: new Date() } } });
}

export interface Made {
  at: number;
}

/**
 * Reads FieldChange rows as they appear and matches them to the edits made (key: portal | entity type | record |
 * field). Moves imported from Bitrix24's stage history are not edits a bench made and are left out.
 */
export class ChangeCollector {
  readonly madeAt = new Map<string, number>();
  readonly lagMs = new Map<string, number>();
  readonly storedAt = new Map<string, number>();
  readonly source = new Map<string, string>();
  /** a made change recorded a second time */
  twice = 0;
  /** rows for no edit this collector was told of */
  unexpected = 0;
  private maxId = 0;
  private floor = 0;
  private readonly seen = new Set<string>();
  constructor(private readonly client: pg.Client) {}

  static key(portalId: string, entityType: string, entityId: number, field: string) {
    return `${portalId}|${entityType}|${entityId}|${field}`;
  }

  /** Starts after every row stored so far. */
  async skipExisting() {
    const { rows } = await this.client.query<{ max: string | null }>(`SELECT max(id)::text AS max FROM "FieldChange"`);
    this.maxId = Number(rows[0]?.max ?? 0);
    this.floor = this.maxId;
  }

  made(key: string, at = Date.now()) {
    this.madeAt.set(key, at);
  }

  async poll(): Promise<void> {
    // A window below the highest id seen: a transaction that took its id earlier may commit later.
    const { rows } = await this.client.query<{ id: string; key: string; source: string; at: number }>(
      `SELECT id::text AS id, "portalId" || '|' || "entityType" || '|' || "entityId" || '|' || field AS key, source,
         EXTRACT(EPOCH FROM "createdAt") * 1000 AS at
       FROM "FieldChange" WHERE id > $1::bigint AND source <> 'stagehistory' ORDER BY id`,
      [String(Math.max(this.floor, this.maxId - 5000))],
    );
    for (const r of rows) {
      if (this.seen.has(r.id)) continue;
      this.seen.add(r.id);
      this.maxId = Math.max(this.maxId, Number(r.id));
      const sent = this.madeAt.get(r.key);
      if (sent === undefined) {
        this.unexpected++;
        continue;
      }
      if (this.lagMs.has(r.key)) {
        this.twice++;
        continue;
      }
      this.lagMs.set(r.key, Number(r.at) - sent);
      this.storedAt.set(r.key, Number(r.at));
      this.source.set(r.key, r.source);
    }
  }

  /** Polls until every key is recorded (true) or `untilMs` passes (false). */
  async waitFor(keys: string[], untilMs: number): Promise<boolean> {
    for (;;) {
      await this.poll();
      if (keys.every((k) => this.lagMs.has(k))) return true;
      if (Date.now() > untilMs) return false;
      await sleep(500);
    }
  }
}
