// `npm test`: the full suite — types, lint, format (Prettier), unit + integration (vitest, each worker on its own database),
// then a production build and the browser tests (Playwright drives the app inside the fake Bitrix24).
// Uses TEST_DATABASE_URL (a real PostgreSQL) when set, the embedded PGlite otherwise. Ends with one line that sums
// the tests of both runners: "tests: N passed, M failed" (a flaky pass counts as failed; scripts/test-count.ts).
import { spawn } from "node:child_process";
import { countTests, summaryLine } from "./test-count";

const steps: [string, string[]][] = [
  ["typecheck", ["tsc", "--noEmit"]],
  ["lint", ["eslint", "."]],
  ["format", ["prettier", "--check", "."]],
  ["unit + integration", ["vitest", "run"]],
  ["build", ["next", "build", "--webpack"]],
  ["e2e", ["playwright", "test"]],
];
const totals = { passed: 0, failed: 0, flaky: 0 };

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", args, { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      process.stdout.write(d);
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    child.on("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

const only = process.argv.slice(2);
for (const [name, args] of steps) {
  if (only.length && !only.includes(name.split(" ")[0]!)) continue;
  console.log(`\n=== ${name}: npx ${args.join(" ")}`);
  const started = Date.now();
  const { code, output } = await run(args);
  let failedCount = 0;
  if (name === "unit + integration" || name === "e2e") {
    const c = countTests(output);
    totals.passed += c.passed;
    totals.failed += c.failed;
    totals.flaky += c.flaky;
    failedCount = c.failed;
  }
  // Playwright exits 0 when a test failed and then passed on a retry; here that is a failure
  const failed = code !== 0 || failedCount > 0;
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  console.log(`=== ${name}: ${failed ? `FAILED (exit ${code})` : "ok"} in ${took}`);
  if (failed) {
    console.log(summaryLine({ ...totals, failed: Math.max(totals.failed, 1) }));
    process.exit(code || 1);
  }
}
console.log(summaryLine(totals));
