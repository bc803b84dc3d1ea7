// The embedded PostgreSQL: PGlite served over the Postgres wire protocol, data in a git-ignored folder.
// Used only when DATABASE_URL is unset (see scripts/with-db.ts); production and CI use a real PostgreSQL.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export const EMBEDDED_DB_PORT = 54329;
export const embeddedDatabaseUrl = (port = EMBEDDED_DB_PORT) =>
  `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable&connection_limit=1`;

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedDb(opts: { dataDir?: string; port?: number } = {}): Promise<EmbeddedDb> {
  const dataDir = opts.dataDir ?? ".data/pglite";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port: opts.port ?? EMBEDDED_DB_PORT, host: "127.0.0.1", maxConnections: 100 });
  await server.start();
  const port = opts.port ?? EMBEDDED_DB_PORT;
  return {
    url: embeddedDatabaseUrl(port),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
