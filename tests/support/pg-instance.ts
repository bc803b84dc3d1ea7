// A database of its own that a test may stop and restart (the shared test cluster must never be restarted: other
// test workers use it). A throwaway PostgreSQL cluster (initdb into a temp dir, a free port, run as the `postgres`
// user when we are root) when the binaries are installed; otherwise PGlite on a file data dir served over the wire
// protocol (scripts/pglite-server.ts: safe for concurrent clients), stopped and reopened on the same dir and
// port — the same outage as far as a client can tell.
// CRASH_TEST_DB=pglite forces the fallback (to exercise it on a machine that has PostgreSQL). Under CI (CI=true) there
// is no silent fallback: a PostgreSQL that is missing or does not start fails the suite with the reason, as the
// crash tests are meant to prove the app against a real server there.
import { execFile, spawnSync } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { servePglite, type PgliteServer } from "../../scripts/pglite-server";
import { applyMigrations } from "./test-db";

const execFileAsync = promisify(execFile);

export interface DedicatedDb {
  kind: "postgres" | "pglite";
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const inPath = (name: string, extra: string[] = []) =>
  [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...extra]
    .map((d) => path.join(d, name))
    .find((f) => existsSync(f)) ?? null;

/** initdb + pg_ctl: on PATH, or where Debian's packages put them (/usr/lib/postgresql/<major>/bin, not on PATH). */
function findPgBin(): string | null {
  const debian = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql")
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  const initdb = inPath("initdb", debian);
  return initdb && existsSync(path.join(path.dirname(initdb), "pg_ctl")) ? path.dirname(initdb) : null;
}

function postgresUser(): { uid: number; gid: number } | null {
  const r = spawnSync("id", ["postgres"], { encoding: "utf8" });
  const uid = /uid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /gid=(\d+)/.exec(r.stdout)?.[1];
  return r.status === 0 && uid && gid ? { uid: Number(uid), gid: Number(gid) } : null;
}

/** `tool` of the PostgreSQL binaries, as the postgres user when we are root (the server refuses to run as root). */
function pgCommand(bin: string, tool: string, args: string[]): [string, string[]] {
  const exe = path.join(bin, tool);
  const runuser = inPath("runuser", ["/usr/sbin", "/sbin"]) ?? "runuser";
  return process.getuid?.() === 0 ? [runuser, ["-u", "postgres", "--", exe, ...args]] : [exe, args];
}

async function startPostgres(bin: string): Promise<DedicatedDb> {
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  if (process.getuid?.() === 0 && !owner) throw new Error("running as root without a postgres user");
  const dir = mkdtempSync(path.join(os.tmpdir(), "crash-pg-"));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, "data");
  // Asynchronous: the fake portal and the app's routes live in this process and must keep serving meanwhile.
  const run = (tool: string, args: string[]) =>
    execFileAsync(...pgCommand(bin, tool, args), { cwd: dir, timeout: 120_000 });
  const onExit = () => {
    spawnSync(...pgCommand(bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]), {
      cwd: dir,
      stdio: "ignore",
    });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit); // vitest killed or a hook threw: no cluster is left running
  try {
    await run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8", "--locale=C"]);
    const port = await freePort();
    // Throwaway data: no fsync. Its own socket dir, so nothing touches the system cluster's /var/run/postgresql.
    appendFileSync(
      path.join(data, "postgresql.conf"),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
        "shared_buffers = 16MB",
        "max_connections = 60",
        "",
      ].join("\n"),
    );
    const db: DedicatedDb = {
      kind: "postgres",
      url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
      start: async () =>
        void (await run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"])),
      stop: async () => void (await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"])),
      destroy: async () => {
        process.removeListener("exit", onExit);
        onExit();
      },
    };
    await db.start();
    await applyMigrations(db.url);
    return db;
  } catch (e) {
    process.removeListener("exit", onExit);
    onExit();
    throw e;
  }
}

async function startPgliteOnDisk(): Promise<DedicatedDb> {
  const { PGlite } = await import("@electric-sql/pglite");
  const dir = mkdtempSync(path.join(os.tmpdir(), "crash-pglite-"));
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", onExit);
  const port = await freePort();
  let server: PgliteServer | null = null;
  const db: DedicatedDb = {
    kind: "pglite",
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    start: async () => {
      server = await servePglite(await PGlite.create(path.join(dir, "data")), port);
    },
    stop: async () => {
      const s = server;
      server = null;
      await s?.stop();
    },
    destroy: async () => {
      await db.stop();
      process.removeListener("exit", onExit);
      onExit();
    },
  };
  await db.start();
  await applyMigrations(db.url);
  return db;
}

const isCi = () => /^(1|true|yes)$/i.test(process.env.CI ?? "");

/**
 * A migrated database on its own server, restartable by the test. `pgBin` (the folder of initdb and pg_ctl; null:
 * none) and `ci` default to what this machine has and whether CI=true.
 */
export async function startDedicatedDb(opts: { pgBin?: string | null; ci?: boolean } = {}): Promise<DedicatedDb> {
  if (process.env.CRASH_TEST_DB === "pglite") return startPgliteOnDisk();
  const ci = opts.ci ?? isCi();
  const bin = opts.pgBin === undefined ? findPgBin() : opts.pgBin;
  const fallback = "under CI the crash-safety suite needs a PostgreSQL of its own (CRASH_TEST_DB=pglite: PGlite)";
  if (!bin) {
    if (ci) throw new Error(`[pg-instance] no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin: ${fallback}`);
    return startPgliteOnDisk();
  }
  try {
    return await startPostgres(bin);
  } catch (e) {
    const why = `PostgreSQL at ${bin} could not be started (${String(e).slice(0, 300)})`;
    if (ci) throw new Error(`[pg-instance] ${why}: ${fallback}`, { cause: e });
    console.warn(`[pg-instance] ${why}; using PGlite`);
  }
  return startPgliteOnDisk();
}
