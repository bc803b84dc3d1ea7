// Runs a command with DATABASE_URL set. When it is unset, the embedded PGlite is started (or reused when another
// process of ours already serves it) so a newcomer needs nothing installed. A database that cannot be reached stops
// it at once with one line naming host, database and cause (lib/db-check.ts), before any tool prints its own guess.
// Usage: tsx scripts/with-db.ts <command> [args...]
import { spawn } from "node:child_process";
import net from "node:net";
import { checkDatabase, DatabaseConnectError } from "@/lib/db-check";
import { EMBEDDED_DB_PORT, embeddedDatabaseUrl, startEmbeddedDb, type EmbeddedDb } from "./embedded-db";

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export async function ensureDatabaseUrl(): Promise<{ url: string; embedded: EmbeddedDb | null }> {
  const given = process.env.DATABASE_URL || ((await portInUse(EMBEDDED_DB_PORT)) ? embeddedDatabaseUrl() : null);
  if (given) {
    await checkDatabase(given);
    return { url: given, embedded: null };
  }
  const embedded = await startEmbeddedDb();
  console.error(`[with-db] embedded PostgreSQL (PGlite) on ${embedded.url.replace(/:[^:@/]+@/, ":***@")}`);
  return { url: embedded.url, embedded };
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    console.error("usage: tsx scripts/with-db.ts <command> [args...]");
    process.exit(2);
  }
  const { url, embedded } = await ensureDatabaseUrl().catch((error: unknown) => {
    if (!(error instanceof DatabaseConnectError)) throw error;
    console.error(`[with-db] ${error.message}`);
    process.exit(1);
  });
  const child = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, DATABASE_URL: url }, shell: false });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  child.on("exit", async (code, signal) => {
    await embedded?.stop();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
