import { loadEnv } from "@/lib/env";
import { runWorker } from "@/lib/composition/run-worker";

const env = loadEnv();
if (env.WORKER_IN_WEB && env.NODE_ENV !== "test") {
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  void runWorker(stop.signal);
}
