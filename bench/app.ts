// The whole app for a stack benchmark (ingest, memory): a database of its own (bench/db.ts), free ports, the
// production build (`npm run build`), the fake Bitrix24 without latency. Warnings and errors of every process are
// kept so a table note can say what went wrong instead of a bare count.
import { startStack, type Stack } from "../scripts/stack";
import { benchDatabase, freePort, type BenchDb, type DbKind } from "./db";
import { backendsCpu, groupCpu } from "./rss";

export interface BenchStack extends Stack {
  db: BenchDb;
  /** log lines at warn level and above (pino), or other lines that look like errors — shortened */
  problems: string[];
}

/** "[app] unhandled error in route: bind message supplies …" from a pino line; other lines as they are. */
function summary(line: string): string {
  const json = line.indexOf("{");
  try {
    const o = JSON.parse(line.slice(json)) as { msg?: string; err?: { message?: string } };
    return `${line.slice(0, json)}${o.msg ?? ""}${o.err?.message ? `: ${o.err.message}` : ""}`.slice(0, 300);
  } catch {
    return line.slice(0, 300);
  }
}

function isProblem(line: string): boolean {
  const json = line.indexOf("{");
  if (json >= 0) {
    try {
      return Number((JSON.parse(line.slice(json)) as { level?: number }).level ?? 0) >= 40;
    } catch {
      /* not JSON after all */
    }
  }
  return /error|exception|fail|unhandled|ECONN/i.test(line);
}

export async function withStack<T>(
  name: string,
  kind: DbKind,
  opts: { deals: number; worker?: "in-web" | "process" },
  work: (s: BenchStack) => Promise<T>,
): Promise<T> {
  const db = await benchDatabase(name, kind);
  const problems: string[] = [];
  const recent: string[] = []; // every line, for the error when the stack does not come up
  const previousLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = "warn"; // an info line per request would cost the measured processes CPU
  try {
    const [appPort, portalPort, oauthPort] = [await freePort(), await freePort(), await freePort()];
    const stack = await startStack({
      mode: "prod",
      appPort,
      portalPort,
      oauthPort,
      portals: 1,
      deals: opts.deals,
      latency: "0-0",
      databaseUrl: db.url,
      worker: opts.worker,
      log: (line) => {
        if (recent.push(line.slice(0, 600)) > 20) recent.shift();
        if (isProblem(line) && problems.length < 500) problems.push(summary(line));
      },
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${recent.join("\n")}`, { cause: e });
    });
    try {
      return await work({ ...stack, db, problems });
    } finally {
      await stack.stop();
    }
  } finally {
    if (previousLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = previousLevel;
    await db.stop();
  }
}

/** CPU seconds so far of each part; the database's only on PostgreSQL (PGlite runs inside the bench process). */
export interface Cpu {
  web: number;
  worker: number;
  db: number;
  fake: number;
  bench: number;
}

export function cpuNow(s: BenchStack): Cpu {
  const own = process.cpuUsage();
  return {
    web: groupCpu(s.pids.web),
    worker: s.pids.worker ? groupCpu(s.pids.worker) : 0,
    fake: s.pids.fake ? groupCpu(s.pids.fake) : 0,
    db: s.db.kind === "PostgreSQL" ? backendsCpu(new URL(s.db.url).pathname.slice(1)) : NaN,
    bench: (own.user + own.system) / 1e6,
  };
}

/** Milliseconds of CPU per item between two readings, part by part. */
export function cpuPer(a: Cpu, b: Cpu, items: number): Cpu {
  const per = (k: keyof Cpu) => ((b[k] - a[k]) * 1000) / Math.max(1, items);
  return { web: per("web"), worker: per("worker"), db: per("db"), fake: per("fake"), bench: per("bench") };
}
