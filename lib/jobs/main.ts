// `npm run worker`: a worker process alone, for scale-out (any number of them share one Postgres).
import { loadEnv } from "@/lib/env";
import { disconnectDb } from "@/lib/db";
import { runWorker } from "@/lib/jobs/run-worker";
import { flushMetrics } from "@/lib/metrics/bump";

loadEnv();
const stop = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stop.abort());
await runWorker(stop.signal);
await flushMetrics();
await disconnectDb();
