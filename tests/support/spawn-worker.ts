// Real worker processes for the crash tests: `tsx --conditions=react-server lib/composition/main.ts` (what `npm run worker`
// runs), each in its own process group so SIGKILL takes the whole tree at once, as a crash or the OOM killer would.
// Every worker started here is killed when the test process exits, whatever happened before.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface WorkerProcess {
  /** WORKER_ID of lib/composition/run-worker.ts: what its claimed rows carry in "lockedBy". */
  id: string;
  /** pid of the node process running the worker loop. */
  pid: number;
  output(): string;
  alive(): boolean;
  /** SIGKILL to the whole process group; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful: the loop finishes its batch); resolves with the exit code (null: killed after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcess>();
const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
};
process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

/** The configuration the app needs (lib/env.ts), taken from this test process, with overrides. */
export function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const keys = [
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "NODE_ENV",
    "APP_URL",
    "DATABASE_URL",
    "APP_SECRET",
    "BITRIX_CLIENT_ID",
    "BITRIX_CLIENT_SECRET",
    "BITRIX_OAUTH_URL",
    "BITRIX_OAUTH_ALLOWED",
    "BITRIX_ALLOW_HTTP",
  ];
  const env: Record<string, string> = {};
  for (const k of keys) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, LOG_LEVEL: "info", ...overrides };
}

/** A zombie (killed, not yet reaped by a container's init) is as dead as a missing process. */
function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return /^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

function waitForStart(child: ChildProcess, log: () => string, timeoutMs: number): Promise<{ id: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not start in ${timeoutMs} ms:\n${log().slice(-4000)}`)),
      timeoutMs,
    );
    const onData = () => {
      const line = log()
        .split("\n")
        .find((l) => l.includes('"worker started"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      const parsed = JSON.parse(line) as { worker: string; pid: number };
      resolve({ id: parsed.worker, pid: parsed.pid });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before starting:\n${log().slice(-4000)}`));
    });
  });
}

export async function startWorker(env: Record<string, string>, timeoutMs = 120_000): Promise<WorkerProcess> {
  // Node with tsx's loader, not the `tsx` command: that one is a parent process that relays SIGTERM only if the worker
  // answers within 30 ms, and otherwise kills it and exits 143 (node_modules/tsx cli relaySignalToChild) — a worker
  // busy with a backfill slice on a loaded machine lost its graceful stop that way.
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=react-server", "lib/composition/main.ts"], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let log = "";
  const append = (d: Buffer) => {
    log = (log + d.toString()).slice(-200_000);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      running.delete(child);
      r(code);
    }),
  );
  try {
    const { id, pid } = await waitForStart(child, () => log, timeoutMs);
    return {
      id,
      pid,
      output: () => log,
      alive: () => child.exitCode === null && child.signalCode === null && !isDead(pid),
      async kill9() {
        killGroup(child, "SIGKILL");
        await exited;
        for (let i = 0; i < 200 && !isDead(pid); i++) await new Promise((r) => setTimeout(r, 25));
        if (!isDead(pid)) throw new Error(`worker ${pid} survived SIGKILL`);
      },
      async stop(timeoutMs = 60_000) {
        child.kill("SIGTERM"); // the worker finishes its batch and disconnects
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs); // a hung shutdown fails the test, not the suite
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  } catch (e) {
    killGroup(child, "SIGKILL");
    throw e;
  }
}

/** Kills every worker still running (afterAll / afterEach). */
export async function killAllWorkers(): Promise<void> {
  const all = [...running];
  for (const child of all) killGroup(child, "SIGKILL");
  await Promise.all(
    all.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once("exit", r)))),
  );
}
