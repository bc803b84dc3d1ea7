// A database of its own for every test worker process (STYLE §8): on a real PostgreSQL when TEST_DATABASE_URL
// names one (CI), otherwise an in-memory PGlite served on a free port. Migrations are applied from the committed
// prisma/migrations/*/migration.sql files, the same SQL `npm run db:deploy` applies.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";

const MIGRATIONS = path.resolve(import.meta.dirname, "../../prisma/migrations");

export function migrationSql(): string[] {
  return readdirSync(MIGRATIONS)
    .filter((d) => /^\d{14}_/.test(d))
    .sort()
    .map((d) => readFileSync(path.join(MIGRATIONS, d, "migration.sql"), "utf8"));
}

export async function applyMigrations(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of migrationSql()) await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createRealDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function startPglite(): Promise<string> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { servePglite } = await import("../../scripts/pglite-server");
  const server = await servePglite(await PGlite.create("memory://"));
  return `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`;
}

const g = globalThis as unknown as { __testDbUrl?: Promise<string> };

/** The URL of this worker's database, created and migrated on first call. */
export function testDatabaseUrl(): Promise<string> {
  g.__testDbUrl ??= (async () => {
    const admin = process.env.TEST_DATABASE_URL;
    const url = admin
      ? await createRealDatabase(admin, `b24test_${process.env.VITEST_POOL_ID ?? "0"}_${process.pid}`)
      : await startPglite();
    await applyMigrations(url);
    return url;
  })();
  return g.__testDbUrl;
}

/** Empties every table (between tests that must not see each other's rows). */
export async function resetDb(): Promise<void> {
  const client = new pg.Client({ connectionString: await testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      "select tablename from pg_tables where schemaname = 'public' and tablename <> '_prisma_migrations'",
    );
    if (rows.length)
      await client.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
}
