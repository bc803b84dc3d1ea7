// Next.js start-up hook: a bad configuration stops the process here, with a message naming the variable; with
// WORKER_IN_WEB (the default) the background worker runs inside the web process.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { loadEnv } = await import("@/lib/env");
  const env = loadEnv();
  if (env.WORKER_IN_WEB && env.NODE_ENV !== "test") {
    const { runWorker } = await import("@/lib/jobs/worker");
    const stop = new AbortController();
    process.once("SIGTERM", () => stop.abort());
    void runWorker(stop.signal);
  }
}
