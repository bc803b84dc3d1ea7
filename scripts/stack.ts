// Starts the whole thing on one machine: database (embedded PGlite unless DATABASE_URL is set), migrations, the fake
// Bitrix24 (portal + OAuth server) in its own process, the Next.js app (web + in-process worker, or with
// `worker: "process"` web + a worker process), and installs the app into the fake portal. Used by `npm run dev`, the
// Playwright global setup and the benchmarks.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import readline from "node:readline";
import { ensureDatabaseUrl } from "./with-db";
import type { EmbeddedDb } from "./embedded-db";
import { sleep } from "@/lib/sleep";

export interface StackOptions {
  mode: "dev" | "prod";
  appPort: number;
  portalPort: number;
  oauthPort: number;
  portals?: number;
  deals?: number;
  latency?: string;
  /** keep the embedded database in memory (tests) instead of .data/pglite */
  ephemeralDb?: boolean;
  /** use this (fresh) database instead of DATABASE_URL or the embedded one — each benchmark brings its own */
  databaseUrl?: string;
  /** "process": the web process only serves (WORKER_IN_WEB=0) and one `lib/composition/main.ts` worker process works */
  worker?: "in-web" | "process";
  log?: (line: string) => void;
}

export interface Stack {
  appUrl: string;
  portalUrls: string[];
  oauthUrl: string;
  env: Record<string, string>;
  /** process-group leaders (each started with `detached`), e.g. for sampling memory */
  pids: { web: number; worker?: number; fake?: number };
  stop(): Promise<void>;
}

export const DEV_CLIENT_ID = "local.devapp000000000.00000000";

/** A per-checkout secret for the embedded setup, created once and kept in the git-ignored .data folder. */
function devSecret(name: string): string {
  mkdirSync(".data", { recursive: true });
  const file = `.data/${name}`;
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: (l: string) => void, tag: string): ChildProcess {
  // Own process group, so stopping kills npx and everything it started (next-server, tsx's node).
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on("line", (l) => log(`[${tag}] ${l}`));
  }
  return child;
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process for ${url} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${url}`);
}

async function startFake(opts: StackOptions, appUrl: string, secret: string, log: (l: string) => void) {
  const args = [
    "tsx",
    "tests/fake-portal/main.ts",
    "--port",
    String(opts.portalPort),
    "--oauth-port",
    String(opts.oauthPort),
    "--app-url",
    appUrl,
    "--client-id",
    DEV_CLIENT_ID,
    "--client-secret",
    secret,
    "--portals",
    String(opts.portals ?? 1),
    "--deals",
    String(opts.deals ?? 200),
    "--latency",
    opts.latency ?? "100-300",
  ];
  const child = spawn("npx", args, { stdio: ["ignore", "pipe", "pipe"], env: process.env, detached: true });
  readline.createInterface({ input: child.stderr! }).on("line", (l) => log(`[fake-bitrix24] ${l}`));
  const lines = readline.createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error("fake Bitrix24 exited before it was ready");
    }),
  ])) as [string];
  lines.on("line", (l) => log(`[fake-bitrix24] ${l}`));
  const info = JSON.parse(first) as { oauthUrl: string; portals: { baseUrl: string }[] };
  return { child, info };
}

/** "Ready to click" includes the history baseline: wait until the app's worker finished the install backfill. */
async function waitForBackfill(databaseUrl: string, portals: number, log: (l: string) => void) {
  if (!portals) return;
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ done: number; total: number }>(
        `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*)::int AS total FROM "BackfillRun"`,
      );
      if (rows[0] && rows[0].total >= portals * 4 && rows[0].done === rows[0].total) return;
      await sleep(500);
    }
    log("[stack] the history backfill is still running; changes made before it finishes have no baseline");
  } finally {
    await client.end();
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const children: ChildProcess[] = [];
  let embedded: EmbeddedDb | null = null;
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode !== null || !c.pid) continue;
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        c.kill("SIGTERM");
      }
    }
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, "exit") : null)));
    await embedded?.stop();
  };
  try {
    let url: string;
    if (opts.databaseUrl) {
      url = opts.databaseUrl;
    } else if (opts.ephemeralDb && !process.env.DATABASE_URL) {
      const { startEmbeddedDb } = await import("./embedded-db");
      embedded = await startEmbeddedDb({ dataDir: "memory://", port: opts.oauthPort + 50 });
      url = embedded.url;
    } else {
      ({ url, embedded } = await ensureDatabaseUrl());
    }
    const appUrl = `http://localhost:${opts.appPort}`;
    const clientSecret = devSecret("dev-client-secret");
    const oauthUrl = `http://127.0.0.1:${opts.oauthPort}`;
    const env: Record<string, string> = {
      DATABASE_URL: url,
      APP_URL: appUrl,
      BITRIX_CLIENT_ID: DEV_CLIENT_ID,
      BITRIX_CLIENT_SECRET: clientSecret,
      BITRIX_OAUTH_URL: oauthUrl,
      BITRIX_OAUTH_ALLOWED: oauthUrl,
      BITRIX_ALLOW_HTTP: "1",
      APP_SECRET: devSecret("dev-app-secret"),
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      NEXT_TELEMETRY_DISABLED: "1",
    };
    const childEnv = { ...process.env, ...env };
    const migrate = run("npx", ["prisma", "migrate", "deploy"], childEnv, log, "migrate");
    const [code] = (await once(migrate, "exit")) as [number];
    if (code !== 0) throw new Error("prisma migrate deploy failed");

    // The fake Bitrix24 is optional so the first command brings up whatever exists.
    const fake = existsSync("tests/fake-portal/main.ts") ? await startFake(opts, appUrl, clientSecret, log) : null;
    if (fake) children.push(fake.child);
    const nextArgs =
      opts.mode === "dev"
        ? ["next", "dev", "--webpack", "-p", String(opts.appPort)]
        : ["next", "start", "-p", String(opts.appPort)];
    const nodeEnv = opts.mode === "dev" ? "development" : "production";
    const separate = opts.worker === "process";
    const web = run(
      "npx",
      nextArgs,
      { ...childEnv, NODE_ENV: nodeEnv, ...(separate ? { WORKER_IN_WEB: "0" } : {}) },
      log,
      "app",
    );
    children.push(web);
    await waitForHttp(`${appUrl}/api/health`, 180_000, web);
    const worker = separate
      ? run(
          "npx",
          ["tsx", "--conditions=react-server", "lib/composition/main.ts"],
          { ...childEnv, NODE_ENV: nodeEnv },
          log,
          "worker",
        )
      : null;
    if (worker) children.push(worker);

    const portalUrls = fake?.info.portals.map((p) => p.baseUrl) ?? [];
    for (const portalUrl of portalUrls) {
      const res = await fetch(`${portalUrl}/_fake/install`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ mode: "ui", finish: true }),
      });
      if (!res.ok) throw new Error(`installing the app into ${portalUrl} failed: ${res.status} ${await res.text()}`);
    }
    await waitForBackfill(url, portalUrls.length, log);
    return {
      appUrl,
      portalUrls,
      oauthUrl,
      env,
      pids: { web: web.pid!, worker: worker?.pid, fake: fake?.child.pid },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
