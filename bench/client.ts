// Bench 2 (REST throughput at Bitrix24's limits) and bench 3 (refreshes per expiry), ours next to B24OAuth.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createInstalledPortal } from "../tests/support/portal-fixture";
import type { benchEnv } from "./env";
import { fmt, type BenchRow } from "./table";

const run = promisify(execFile);
type Env = Awaited<ReturnType<typeof benchEnv>>;
const ours = (script: string, args: string[]) =>
  run("npx", ["tsx", "--conditions=react-server", script, ...args], { env: process.env, timeout: 300_000 }).then((o) =>
    JSON.parse(o.stdout.trim().split("\n").at(-1)!),
  );
const theirs = (arg: object) =>
  run("npx", ["tsx", "bench/b24oauth-child.ts", JSON.stringify(arg)], { env: process.env, timeout: 300_000 }).then(
    (o) => JSON.parse(o.stdout.trim().split("\n").at(-1)!),
  );

async function freshAuth(env: Env, expired: boolean) {
  const a = await env.control("frame-auth", { userId: 1 });
  return {
    accessToken: a.AUTH_ID!,
    refreshToken: a.REFRESH_ID!,
    expires: Math.floor(Date.now() / 1000) + (expired ? -10 : 3600),
    memberId: a.member_id!,
    clientEndpoint: env.portal.clientEndpoint,
    serverEndpoint: `${env.fake.oauthUrl}/rest/`,
    domain: env.portal.domain,
  };
}
const sdk = (env: Env, auth: object, extra: object) => ({
  clientId: "bench.app",
  clientSecret: "bench-secret",
  auth,
  ...extra,
});

export async function benchRefresh(env: Env): Promise<BenchRow[]> {
  Object.assign(env.portal.bucket, { burst: 10_000, drain: 10_000 });
  const a = await freshAuth(env, false);
  const portal = await createInstalledPortal({
    endpoint: env.portal.baseUrl,
    tokens: { access_token: a.accessToken, refresh_token: a.refreshToken, expires: a.expires, scope: "crm" },
    burst: 10_000,
    drain: 10_000,
    serverEndpoint: a.serverEndpoint,
  });
  await env.control("tokens/expire");
  let before = env.portal.counters.refreshes;
  let attempts = env.portal.counters.refreshAttempts;
  const mine = await Promise.all(
    Array.from({ length: 4 }, () => ours("tests/support/bitrix-child.ts", [portal.id, "25", "user.current"])),
  );
  const ourRefreshes = env.portal.counters.refreshes - before;
  const ourAttempts = env.portal.counters.refreshAttempts - attempts;
  const b = await freshAuth(env, true);
  await env.control("tokens/expire");
  before = env.portal.counters.refreshes;
  attempts = env.portal.counters.refreshAttempts;
  const sdkRuns = await Promise.all(
    Array.from({ length: 4 }, () => theirs(sdk(env, b, { mode: "refresh", calls: 25, seconds: 0 }))),
  );
  const sdkRefreshes = env.portal.counters.refreshes - before;
  const sdkAttempts = env.portal.counters.refreshAttempts - attempts;
  const ok = (xs: { ok: number }[]) => xs.reduce((s, x) => s + x.ok, 0);
  return [
    {
      bench: "3 token refresh",
      metric: "refreshes for 100 calls / 4 processes",
      value: String(ourRefreshes),
      baseline: `${sdkRefreshes} (B24OAuth)`,
      note: "target exactly 1",
    },
    {
      bench: "3 token refresh",
      metric: "refresh attempts sent to the OAuth server",
      value: String(ourAttempts),
      baseline: `${sdkAttempts} (B24OAuth)`,
      note: "the rest: rotated tokens, invalid_grant",
    },
    {
      bench: "3 token refresh",
      metric: "calls that succeeded",
      value: `${ok(mine)} / 100`,
      baseline: `${ok(sdkRuns)} / 100 (B24OAuth)`,
    },
  ];
}

export async function benchThroughput(env: Env, seconds = 20): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const maxReads = (s: number) => 50 * (50 + 2 * s); // burst + drain·t requests, 50 reads per batch
  for (const procs of [1, 4]) {
    Object.assign(env.portal.bucket, { burst: 50, drain: 2, level: 0, at: Date.now() });
    const a = await freshAuth(env, false);
    const portal = await createInstalledPortal({
      endpoint: env.portal.baseUrl,
      tokens: { access_token: a.accessToken, refresh_token: a.refreshToken, expires: a.expires, scope: "crm" },
      serverEndpoint: a.serverEndpoint,
    });
    let before503 = env.portal.counters.served503;
    const mine = await Promise.all(
      Array.from({ length: procs }, () => ours("bench/client-child.ts", [portal.id, String(seconds)])),
    );
    const my503 = env.portal.counters.served503 - before503;
    Object.assign(env.portal.bucket, { burst: 50, drain: 2, level: 0, at: Date.now() });
    before503 = env.portal.counters.served503;
    const b = await freshAuth(env, false);
    const sdkRuns = await Promise.all(
      Array.from({ length: procs }, () => theirs(sdk(env, b, { mode: "reads", calls: 0, seconds }))),
    );
    const sdk503 = env.portal.counters.served503 - before503;
    const reads = (xs: { reads: number }[]) => xs.reduce((s, x) => s + x.reads, 0);
    rows.push({
      bench: "2 REST throughput",
      metric: `${procs} process(es): reads/s (max ${fmt(maxReads(seconds) / seconds, 0)})`,
      value: fmt(reads(mine) / seconds, 0),
      baseline: `${fmt(reads(sdkRuns) / seconds, 0)} (B24OAuth)`,
      note: `503s: ours ${my503}, B24OAuth ${sdk503}`,
    });
  }
  return rows;
}
