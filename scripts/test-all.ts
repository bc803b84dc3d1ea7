// `npm test`: the full suite — types, lint, unit + integration (vitest, each worker on its own database),
// then a production build and the browser tests (Playwright drives the app inside the fake Bitrix24).
// Uses TEST_DATABASE_URL (a real PostgreSQL) when set, the embedded PGlite otherwise. Ends with one line that sums
// the tests of both runners: "tests: N passed, M failed".
import { spawn } from "node:child_process";

const steps: [string, string[]][] = [
  ["typecheck", ["tsc", "--noEmit"]],
  ["lint", ["eslint", "."]],
  ["unit + integration", ["vitest", "run"]],
  ["build", ["next", "build", "--webpack"]],
  ["e2e", ["playwright", "test"]],
];
const totals = { passed: 0, failed: 0 };
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

function count(output: string) {
  const text = strip(output);
  const vitest = /^\s*Tests\s+(?:(\d+) failed \| )?(\d+) passed/m.exec(text);
  if (vitest) return { passed: Number(vitest[2]), failed: Number(vitest[1] ?? 0) };
  const pw = { passed: /^\s*(\d+) passed/m.exec(text), failed: /^\s*(\d+) failed/m.exec(text) };
  return { passed: Number(pw.passed?.[1] ?? 0), failed: Number(pw.failed?.[1] ?? 0) };
}

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", args, { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => { process.stdout.write(d); output += d.toString(); });
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
  if (name === "unit + integration" || name === "e2e") {
    const c = count(output);
    totals.passed += c.passed;
    totals.failed += c.failed;
  }
  console.log(`=== ${name}: ${code === 0 ? "ok" : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (code !== 0) {
    console.log(`tests: ${totals.passed} passed, ${Math.max(totals.failed, 1)} failed`);
    process.exit(code);
  }
}
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
