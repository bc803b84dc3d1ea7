// Shared set-up for the client benchmarks: a database of their own (bench/db.ts: a fresh one on BENCH_DATABASE_URL's
// server, else an in-memory PGlite) with the schema, the app's configuration, and a fake Bitrix24 with the app's
// tokens for portal #1 — the same parts the tests use.
import { startFakeBitrix } from "../tests/fake-portal/index";
import { benchDatabase, dbKinds } from "./db";

export async function benchEnv(opts: { deals?: number; latencyMs?: [number, number] } = {}) {
  const original = { ...process.env };
  const db = await benchDatabase("client", dbKinds().at(-1)!, { migrate: true });
  const databaseUrl = db.url;
  const fake = await startFakeBitrix({
    app: { clientId: "bench.app", clientSecret: "bench-secret", appUrl: "http://127.0.0.1:9" },
    seed: { deals: opts.deals ?? 2000, contacts: 10, companies: 10, leads: 10 },
    latencyMs: opts.latencyMs ?? [0, 0],
  });
  const settings = {
    DATABASE_URL: databaseUrl,
    APP_URL: "http://127.0.0.1:9",
    BITRIX_CLIENT_ID: "bench.app",
    BITRIX_CLIENT_SECRET: "bench-secret",
    APP_SECRET: "bench-app-secret-0123456789abcdef0123456789",
    BITRIX_OAUTH_URL: fake.oauthUrl,
    BITRIX_OAUTH_ALLOWED: fake.oauthUrl,
    BITRIX_ALLOW_HTTP: "1",
    LOG_LEVEL: "silent",
  };
  Object.assign(process.env, settings);
  const portal = fake.fake.portals[0]!;
  const control = (route: string, body: unknown = {}) =>
    fetch(`${portal.baseUrl}/_fake/${route}`, { method: "POST", body: JSON.stringify(body) }).then((r) =>
      r.json(),
    ) as Promise<Record<string, string>>;
  await control("install", { mode: "event" }).catch(() => undefined); // marks the app installed (its handler is absent here)
  return {
    fake,
    portal,
    control,
    databaseUrl,
    dbKind: db.kind,
    stop: async () => {
      await fake.stop();
      await db.stop();
      for (const key of Object.keys(settings)) {
        if (original[key] === undefined) delete process.env[key];
        else process.env[key] = original[key];
      }
    },
  };
}
