// A database that cannot be reached is reported at start with host, database and cause — never the password —
// by the check itself (lib/db-check.ts) and by the entry points an operator runs: `npm start` / the CLI tools
// (scripts/with-db.ts), a worker (lib/composition/main.ts) and `npm run dev` (scripts/stack.ts through with-db).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkDatabase } from "@/lib/db-check";
import { freePort } from "../support/pg-instance";
import { workerEnv } from "../support/spawn-worker";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const SECRET = "S3cret-pa55word-never-printed";
/** The real PostgreSQL the suite runs on, when it does (its host and port: 127.0.0.1:5432 on CI). */
const server = process.env.TEST_DATABASE_URL ? new URL(process.env.TEST_DATABASE_URL) : null;

const failure = (url: string) =>
  checkDatabase(url).then(
    () => "connected",
    (e: Error) => `${e.name}: ${e.message}`,
  );

/** Runs an entry point with DATABASE_URL set; resolves with its exit code and output. */
async function start(args: string[], url: string) {
  const env = { ...process.env, ...workerEnv({ DATABASE_URL: url, LOG_LEVEL: "silent" }) };
  return run(TSX, args, { cwd: ROOT, env, timeout: 120_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code,
      out: `${e.stdout ?? ""}${e.stderr ?? ""}`,
    }),
  );
}

describe.skipIf(!server)("a PostgreSQL server that refuses us", () => {
  const at = (user: string, password: string, database: string) =>
    `postgresql://${user}:${password}@${server!.hostname}:${server!.port || 5432}/${database}`;

  it("wrong password: names host, port, database, user and the cause, not the password", async () => {
    const message = await failure(at("postgres", SECRET, "postgres"));
    expect(message).toContain("DatabaseConnectError");
    expect(message).toContain(`at ${server!.hostname}:${server!.port || 5432}`);
    expect(message).toMatch(/database "postgres".*user "postgres".*password authentication failed/);
    expect(message).not.toContain(SECRET);
  });

  it("no password at all: says so (Prisma printed 'External error id#0')", async () => {
    const message = await failure(`postgresql://postgres@${server!.hostname}:${server!.port || 5432}/postgres`);
    expect(message).toMatch(/server asks for a password; DATABASE_URL has none/);
  });

  it("missing database: names it", async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = "/no_such_database_here";
    const message = await failure(url.toString());
    expect(message).toMatch(/database "no_such_database_here" does not exist/);
  });
});

describe("a database that is not there", () => {
  it("closed port: connection refused, naming host, port and database", async () => {
    const port = await freePort();
    const message = await failure(`postgresql://app:${SECRET}@127.0.0.1:${port}/history`);
    expect(message).toContain(`Cannot connect to the database "history" at 127.0.0.1:${port} as user "app"`);
    expect(message).toMatch(/connection refused: nothing listens on 127\.0\.0\.1:\d+/);
    expect(message).not.toContain(SECRET);
  });

  it("localhost on a closed port (IPv6 and IPv4 both refused): still one clear cause", async () => {
    const message = await failure(`postgresql://app:${SECRET}@localhost:${await freePort()}/history`);
    expect(message).toMatch(/at localhost:\d+ .*connection refused/);
  });

  it("unknown host: names the host (.invalid never resolves, RFC 6761)", async () => {
    const message = await failure(`postgresql://app:${SECRET}@no-such-db-host.invalid:5432/history`);
    expect(message).toMatch(/"history" at no-such-db-host\.invalid:5432 .*"no-such-db-host\.invalid" .*resolve/);
    expect(message).not.toContain(SECRET);
  });

  it("an unparseable DATABASE_URL is named as such, without echoing it", async () => {
    const message = await failure(`postgresql://app:${SECRET}@[bad`);
    expect(message).toMatch(/not a valid postgresql:\/\/ connection URL/);
    expect(message).not.toContain(SECRET);
  });
});

describe("entry points stop at start with that message", () => {
  it("`npm start` and the CLI tools (scripts/with-db.ts): exit 1, the command never runs", async () => {
    const url = `postgresql://app:${SECRET}@127.0.0.1:${await freePort()}/history`;
    const { code, out } = await start(["scripts/with-db.ts", "node", "-e", "console.log('COMMAND RAN')"], url);
    expect(code).toBe(1);
    expect(out).toMatch(/\[with-db\] Cannot connect to the database "history" at 127\.0\.0\.1:\d+ .*refused/);
    expect(out).not.toContain("COMMAND RAN");
    expect(out).not.toContain(SECRET);
  });

  it.skipIf(!server)(
    "a worker (lib/composition/main.ts) with a wrong password: exit 1 with one clear line",
    async () => {
      const url = `postgresql://postgres:${SECRET}@${server!.hostname}:${server!.port || 5432}/postgres`;
      const { code, out } = await start(["--conditions=react-server", "lib/composition/main.ts"], url);
      expect(code).toBe(1);
      expect(out).toMatch(/\[worker\] Cannot connect to the database "postgres" .*password authentication failed/);
      expect(out).not.toContain(SECRET);
    },
  );
});
