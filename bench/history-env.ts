// Set-up for the history benchmarks (bench/history.ts): a database of their own per part (in-memory PGlite, or a
// fresh database on the real PostgreSQL that BENCH_DATABASE_URL administers), the app's configuration, the app's
// real Bitrix24-facing routes over HTTP and a fake Bitrix24 the app is installed into — the parts the tests use.
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { disconnectDb, getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { flushMetrics } from "@/lib/metrics/bump";
import { startFakeBitrix } from "../tests/fake-portal/index";
import { startAppServer } from "../tests/support/app-server";
import { servePglite } from "../scripts/pglite-server";
import { createRealDatabase, migrationSql } from "../tests/support/test-db";

export interface BenchDb {
  url: string;
  kind: "PGlite" | "PostgreSQL";
  stop(): Promise<void>;
}

export const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** stderr, so the table on stdout stays clean. */
export const progress = (msg: string) => console.error(`[bench history] ${msg}`);

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

async function migrate(url: string) {
  for (const s of migrationSql()) await sql(url, s);
}

/**
 * In-memory PGlite behind scripts/pglite-server.ts: capture runs a worker process, the app's routes and the
 * harness on one database at once, which needs a wire server that keeps each connection's messages together.
 */
export async function pgliteDb(): Promise<BenchDb> {
  const server = await servePglite(await PGlite.create("memory://"));
  const url = `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`;
  await migrate(url);
  return { url, kind: "PGlite", stop: () => server.stop() };
}

/** A database of this bench's own on the real server (dropped afterwards): bench_history_<part>. */
export async function realDb(adminUrl: string, part: string): Promise<BenchDb> {
  const name = `bench_history_${part}_${process.pid}`;
  const url = await createRealDatabase(adminUrl, name);
  await migrate(url);
  return {
    url,
    kind: "PostgreSQL",
    stop: async () => {
      await sql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Real PostgreSQL when BENCH_DATABASE_URL is set, else PGlite. */
export function partDb(part: string): Promise<BenchDb> {
  const admin = process.env.BENCH_DATABASE_URL;
  return admin ? realDb(admin, part) : pgliteDb();
}

const APP_ENV = {
  BITRIX_CLIENT_ID: "bench.history",
  BITRIX_CLIENT_SECRET: "bench-history-secret",
  APP_SECRET: "bench-history-app-secret-0123456789abcdef01",
  BITRIX_ALLOW_HTTP: "1",
  LOG_LEVEL: "silent",
};
const TOUCHED = ["DATABASE_URL", "APP_URL", "BITRIX_OAUTH_URL", "BITRIX_OAUTH_ALLOWED", ...Object.keys(APP_ENV)];

/** Writes pending metrics (if the app has a database at all) and closes the app's client. */
async function settleDb() {
  await flushMetrics().catch(() => undefined);
  await disconnectDb();
}

/** Points the app (lib/env, lib/db) at `vars`; returns a function that restores the previous environment. */
export async function pointAppAt(vars: Record<string, string>): Promise<() => Promise<void>> {
  const saved = Object.fromEntries(TOUCHED.map((k) => [k, process.env[k]]));
  await settleDb();
  Object.assign(process.env, APP_ENV, vars);
  resetEnvForTests();
  return async () => {
    await settleDb();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetEnvForTests();
  };
}

/** The app's routes + a fake Bitrix24 with `deals`, the app installed (under raised limits, so set-up is quick). */
export async function startInstalledApp(db: BenchDb, deals: number) {
  const app = await startAppServer();
  const fake = await startFakeBitrix({
    app: { clientId: APP_ENV.BITRIX_CLIENT_ID, clientSecret: APP_ENV.BITRIX_CLIENT_SECRET, appUrl: app.url },
    seed: { deals, contacts: 10, companies: 10, leads: 10 },
  });
  const restore = await pointAppAt({
    DATABASE_URL: db.url,
    APP_URL: app.url,
    BITRIX_OAUTH_URL: fake.oauthUrl,
    BITRIX_OAUTH_ALLOWED: fake.oauthUrl,
  });
  const state = fake.fake.portals[0]!;
  const base = fake.portals[0]!.baseUrl;
  const control = async (route: string, body: unknown = {}) => {
    const res = await fetch(`${base}/_fake/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return res.json() as Promise<unknown>;
  };
  await control("plan", { burst: 100_000, drain: 100_000 });
  await control("install", { mode: "ui", finish: true });
  const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: state.memberId } });
  await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 100_000, rateDrainPerSec: 100_000 } });
  return {
    app,
    fake,
    state,
    control,
    portalId: portal.id,
    /** Bitrix24's default plan (burst 50, drain 2/s, 480 s operating per method per 10 min), both buckets empty. */
    async defaultLimits() {
      await control("plan", { burst: 50, drain: 2, operatingLimit: 480 });
      Object.assign(state.bucket, { level: 0, at: Date.now() });
      state.operating.clear();
      await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 50, rateDrainPerSec: 2 } });
      await getDb()
        .$executeRaw`UPDATE "RateBucket" SET level = 0, "blockedUntil" = NULL, "updatedAt" = clock_timestamp() WHERE "portalId" = ${portal.id}`;
      await getDb().methodOperating.deleteMany({ where: { portalId: portal.id } });
      await control("reset-counters");
    },
    async stop() {
      await restore();
      await fake.stop();
      await app.stop();
    },
  };
}
export type InstalledApp = Awaited<ReturnType<typeof startInstalledApp>>;
