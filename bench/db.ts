// A database of its own for every benchmark, so benches never collide with each other, with the tests or with
// `npm run dev`: a fresh database on the real PostgreSQL whose admin URL is BENCH_DATABASE_URL (dropped afterwards),
// or an in-memory PGlite served on a free port by the same starter `npm run dev` uses (scripts/embedded-db.ts), so
// the bench measures the embedded database as it ships. The app's own DATABASE_URL is never touched.
import net from "node:net";
import pg from "pg";
import { startEmbeddedDb } from "../scripts/embedded-db";
import { createRealDatabase, migrationSql } from "../tests/support/test-db";

export type DbKind = "PGlite" | "PostgreSQL";

export interface BenchDb {
  kind: DbKind;
  url: string;
  stop(): Promise<void>;
}

/** Which databases the stack benches run on: PGlite always, a real PostgreSQL beside it when one is named. */
export function dbKinds(): DbKind[] {
  return process.env.BENCH_DATABASE_URL ? ["PGlite", "PostgreSQL"] : ["PGlite"];
}

/** The note a table row carries when only the embedded database was measured. */
export const PGLITE_ONLY =
  "PGlite only: set BENCH_DATABASE_URL (an admin postgresql:// URL) to measure a real PostgreSQL beside it";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function adminQuery(adminUrl: string, sql: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database; `migrate` applies the committed migrations (the stack runs `prisma migrate deploy`). */
export async function benchDatabase(name: string, kind: DbKind, opts: { migrate?: boolean } = {}): Promise<BenchDb> {
  let db: BenchDb;
  if (kind === "PostgreSQL") {
    const admin = process.env.BENCH_DATABASE_URL!;
    const dbName = `bench_${name}_${process.pid}`;
    const url = await createRealDatabase(admin, dbName);
    db = { kind, url, stop: () => adminQuery(admin, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`) };
  } else {
    const embedded = await startEmbeddedDb({ dataDir: "memory://", port: 0 });
    db = { kind, url: embedded.url, stop: embedded.stop };
  }
  if (opts.migrate) {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      for (const sql of migrationSql()) await c.query(sql);
    } finally {
      await c.end();
    }
  }
  return db;
}

/** One query on a bench database (counts, settings), on a connection of its own. */
export async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
