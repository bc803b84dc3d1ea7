// `npm run worker`: a worker process alone, for scale-out (any number of them share one Postgres). WORKER_LANES=capture
// or background gives capture and background work processes of their own (docs/architecture.md "Lanes").
import { setPriority } from "node:os";
import { loadEnv } from "@/lib/env";
import { disconnectDb } from "@/lib/db";
import { checkDatabase, DatabaseConnectError } from "@/lib/db-check";
import { runWorker } from "@/lib/composition/run-worker";
import { flushMetrics } from "@/lib/metrics/bump";
import { errorMessage } from "@/lib/error-message";

/** The niceness of a background-only worker: below capture's 0, above nothing else's. */
const BACKGROUND_NICENESS = 10;
const env = loadEnv();
// A database that cannot be reached at start is a configuration error: one clear line and exit 1, not a worker
// logging the same connection failure every two seconds for ever (lib/db-check.ts).
try {
  if (!env.DATABASE_URL) throw new DatabaseConnectError("DATABASE_URL is not set: start workers with `npm run worker`");
  await checkDatabase(env.DATABASE_URL);
} catch (error) {
  if (!(error instanceof DatabaseConnectError)) throw error;
  console.error(`[worker] ${error.message}`);
  process.exit(1);
}
// A process of background lanes alone (`npm start` runs one beside the web process) runs at a lower CPU priority: on
// a machine its cores share with capture, a million-record backfill's parsing and diffing gives way to every portal's
// capture at once, not only after capture has fallen CAPTURE_BEHIND_MS behind (lib/jobs/queue.ts yieldToCapture).
// Raising one's own niceness needs no privilege; where the OS refuses, the process runs as it is.
if (env.WORKER_LANES === "background") {
  try {
    setPriority(BACKGROUND_NICENESS);
  } catch (error) {
    console.error(`[worker] background lanes keep their CPU priority: ${errorMessage(error)}`);
  }
}
const stop = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stop.abort());
await runWorker(stop.signal, env.WORKER_LANES);
await flushMetrics();
await disconnectDb();
