import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import type pg from "pg";
import { createPool } from "@/lib/db-pool";
import { loadEnv } from "@/lib/env";

// One Prisma client per process (T3 db.ts). Secrets are omitted by default: only code that needs them opts back in
// with `omit: { applicationTokenHash: false }` (lib/portals).

function createClient() {
  const url = loadEnv().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start through `npm run dev` / `npm start`, which provide one");
  const pool = createPool(url, 10); // see lib/db-pool.ts
  globalForDb.__pool = pool;
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return new PrismaClient({ adapter, omit: { portal: { applicationTokenHash: true } } });
}

export type Db = ReturnType<typeof createClient>;

const globalForDb = globalThis as unknown as { __db?: Db; __pool?: pg.Pool };

export function getDb(): Db {
  globalForDb.__db ??= createClient();
  return globalForDb.__db;
}

/**
 * The pool under Prisma, for the rare statement whose parameter is too large for Prisma: its client engine copies
 * every query's parameters through its WebAssembly query compiler (≈ 80 ms of CPU for a 2.5 MB JSON parameter).
 */
export function getPool(): pg.Pool {
  getDb();
  return globalForDb.__pool!;
}

export async function disconnectDb(): Promise<void> {
  await globalForDb.__db?.$disconnect();
  globalForDb.__db = undefined;
  globalForDb.__pool = undefined;
}
