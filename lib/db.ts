import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { createPool } from "@/lib/db-pool";
import { loadEnv } from "@/lib/env";

// One Prisma client per process (T3 db.ts). Secrets are omitted by default: only code that needs them opts back in
// with `omit: { applicationTokenHash: false }` (lib/portals).

function createClient() {
  const url = loadEnv().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start through `npm run dev` / `npm start`, which provide one");
  const adapter = new PrismaPg(createPool(url, 10), { disposeExternalPool: true }); // pool: see lib/db-pool.ts
  return new PrismaClient({ adapter, omit: { portal: { applicationTokenHash: true } } });
}

export type Db = ReturnType<typeof createClient>;

const globalForDb = globalThis as unknown as { __db?: Db };

export function getDb(): Db {
  globalForDb.__db ??= createClient();
  return globalForDb.__db;
}

export async function disconnectDb(): Promise<void> {
  await globalForDb.__db?.$disconnect();
  globalForDb.__db = undefined;
}
