// Shared set-up for the client benchmarks: an in-memory PostgreSQL (PGlite), the schema, the app's configuration,
// and a fake Bitrix24 with the app's tokens for portal #1 — the same parts the tests use.
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { migrationSql } from "../tests/support/test-db";
import { startFakeBitrix } from "../tests/fake-portal/index";

export async function benchEnv(opts: { deals?: number; latencyMs?: [number, number] } = {}) {
  const original = process.env.DATABASE_URL;
  let databaseUrl = original;
  let stopDb = async () => {};
  if (!databaseUrl) {
    const db = await PGlite.create("memory://");
    const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: 100 });
    await server.start();
    databaseUrl = `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    stopDb = async () => { await server.stop(); await db.close(); };
  }
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  for (const sql of migrationSql()) await c.query(sql).catch(() => undefined); // already migrated on a real server
  await c.end();
  const fake = await startFakeBitrix({ app: { clientId: "bench.app", clientSecret: "bench-secret", appUrl: "http://127.0.0.1:9" }, seed: { deals: opts.deals ?? 2000, contacts: 10, companies: 10, leads: 10 }, latencyMs: opts.latencyMs ?? [0, 0] });
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl, APP_URL: "http://127.0.0.1:9", BITRIX_CLIENT_ID: "bench.app", BITRIX_CLIENT_SECRET: "bench-secret",
    APP_SECRET: "bench-app-secret-0123456789abcdef0123456789", BITRIX_OAUTH_URL: fake.oauthUrl, BITRIX_OAUTH_ALLOWED: fake.oauthUrl,
    BITRIX_ALLOW_HTTP: "1", LOG_LEVEL: "silent",
  });
  const portal = fake.fake.portals[0]!;
  const control = (route: string, body: unknown = {}) => fetch(`${portal.baseUrl}/_fake/${route}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json()) as Promise<Record<string, string>>;
  await control("install", { mode: "event" }).catch(() => undefined); // marks the app installed (its handler is absent here)
  return { fake, portal, control, databaseUrl, stop: async () => {
    await fake.stop();
    await stopDb();
    if (original === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = original;
  } };
}
