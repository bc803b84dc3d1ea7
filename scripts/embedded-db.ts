// The embedded PostgreSQL: PGlite served over the Postgres wire protocol (scripts/pglite-server.ts, one connection's
// query at a time — safe for the web process, workers and CLI tools at once), data in a git-ignored folder.
// Used only when DATABASE_URL is unset (see scripts/with-db.ts); production and CI use a real PostgreSQL.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { servePglite } from "./pglite-server";

export const EMBEDDED_DB_PORT = 54329;
export const embeddedDatabaseUrl = (port = EMBEDDED_DB_PORT) =>
  `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedDb(opts: { dataDir?: string; port?: number } = {}): Promise<EmbeddedDb> {
  const dataDir = opts.dataDir ?? ".data/pglite";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const server = await servePglite(await PGlite.create(dataDir), opts.port ?? EMBEDDED_DB_PORT);
  return { url: embeddedDatabaseUrl(server.port), stop: () => server.stop() };
}
