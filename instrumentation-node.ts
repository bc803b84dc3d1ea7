import { loadEnv } from "@/lib/env";
import { runWorker } from "@/lib/composition/run-worker";

const env = loadEnv();
if (env.WORKER_IN_WEB && env.NODE_ENV !== "test") {
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  // `npm start` gives the web process the capture lane and a worker process the background lanes (scripts/start.ts).
  void runWorker(stop.signal, env.WORKER_LANES);
}
