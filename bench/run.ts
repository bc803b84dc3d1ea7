// `npm run bench` — prints one table; every ratio is measured side by side in the same run. No pass/fail.
// `npm run bench -- refresh throughput ui ingest memory history` runs a subset. Each bench brings its own database
// (bench/db.ts); BENCH_DATABASE_URL (an admin postgresql:// URL) adds a real PostgreSQL beside the embedded PGlite.
// Knobs: BENCH_SECONDS (load per phase), BENCH_DRAIN_SECONDS (ingest's wait for the worker), BENCH_EVENTS (memory).
import { printTable, type BenchRow } from "./table";

const BENCHES = ["refresh", "throughput", "ui", "ingest", "memory", "history", "reconcile", "crm", "audit", "watch"];
// `--name=value` arguments are knobs of a bench (bench/reconcile.ts, bench/crm-coverage.ts), not bench names.
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const unknown = only.filter((n) => !BENCHES.includes(n));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(", ")}; choose from ${BENCHES.join(", ")}`);
  process.exit(2);
}
// The app's own database is never a bench's: a child process that inherits DATABASE_URL would migrate and fill it.
delete process.env.DATABASE_URL;
const want = (name: string) => !only.length || only.includes(name);
const rows: BenchRow[] = [];
const started = Date.now();
const timed = async (name: string, work: () => Promise<BenchRow[]>) => {
  const t = Date.now();
  rows.push(...(await work()));
  console.error(`[bench] ${name} took ${Math.round((Date.now() - t) / 1000)} s`);
};
if (want("refresh") || want("throughput")) {
  const { benchEnv } = await import("./env");
  const env = await benchEnv({ deals: 2000 });
  try {
    const { benchRefresh, benchThroughput } = await import("./client");
    if (want("refresh")) await timed("refresh", () => benchRefresh(env));
    if (want("throughput"))
      await timed("throughput", () => benchThroughput(env, Number(process.env.BENCH_SECONDS ?? 20)));
  } finally {
    await env.stop();
  }
}
if (want("ui")) await timed("ui", async () => (await import("./ui")).benchUi());
if (want("ingest"))
  await timed("ingest", async () => (await import("./ingest")).benchIngest(Number(process.env.BENCH_SECONDS ?? 15)));
if (want("memory"))
  await timed("memory", async () =>
    (await import("./memory")).benchMemory(Number(process.env.BENCH_EVENTS ?? 1_000_000)),
  );
if (want("history")) await timed("history", async () => (await import("./history")).benchHistory()); // knobs: bench/history.ts
if (want("reconcile")) await timed("reconcile", async () => (await import("./reconcile")).benchReconcile());
// the CRM-coverage rows are part of `history` (its part "crm"); `bench -- crm` runs them alone
if (only.includes("crm") && !only.includes("history"))
  await timed("crm", async () => (await import("./crm-coverage")).benchCrmCoverage());
if (want("audit")) await timed("audit", async () => (await import("./audit")).benchAudit()); // knobs: bench/audit.ts
if (want("watch")) await timed("watch", async () => (await import("./watch")).benchWatch()); // knobs: bench/watch.ts
console.log("");
printTable(rows);
console.log(
  `\n${rows.length} rows in ${Math.round((Date.now() - started) / 1000)} s${process.env.BENCH_DATABASE_URL ? "" : " (PGlite only; BENCH_DATABASE_URL adds a real PostgreSQL)"}`,
);
process.exit(0);
