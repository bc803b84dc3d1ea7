// Next.js start-up hook (Node.js runtime only — NEXT_RUNTIME is set by Next itself): a bad configuration stops the
// process here with a message naming the variable; the worker may run inside the web process.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") await import("./instrumentation-node");
}
