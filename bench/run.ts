// `npm run bench` — prints one table; every ratio is measured side by side in the same run. No pass/fail.
// `npm run bench -- refresh throughput` runs a subset. Figures and how to read them: docs/performance.md.
import { benchEnv } from "./env";
import { printTable, type BenchRow } from "./table";

const only = process.argv.slice(2);
const want = (name: string) => !only.length || only.includes(name);
const rows: BenchRow[] = [];
if (want("refresh") || want("throughput")) {
const env = await benchEnv({ deals: 2000 });
try {
  const { benchRefresh, benchThroughput } = await import("./client");
  if (want("refresh")) rows.push(...(await benchRefresh(env)));
  if (want("throughput")) rows.push(...(await benchThroughput(env, Number(process.env.BENCH_SECONDS ?? 20))));
} finally {
  await env.stop();
}
}
if (want("ui")) rows.push(...(await (await import("./ui")).benchUi()));
if (want("ingest")) {
  const { startStack } = await import("../scripts/stack");
  const stack = await startStack({ mode: "prod", appPort: 3400, portalPort: 4400, oauthPort: 4410, portals: 1, deals: 50, latency: "0-0", ephemeralDb: true, log: () => {} });
  try {
    rows.push(...(await (await import("./ingest")).benchIngest(stack, Number(process.env.BENCH_SECONDS ?? 15))));
  } finally {
    await stack.stop();
  }
}
console.log("");
printTable(rows);
process.exit(0);
