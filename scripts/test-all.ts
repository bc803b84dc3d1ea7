// `npm test`: the full suite — types, lint, unit + integration (vitest, each worker on its own database),
// then a production build and the browser tests (Playwright drives the app inside the fake Bitrix24).
// Uses TEST_DATABASE_URL (a real PostgreSQL) when set, the embedded PGlite otherwise.
import { spawnSync } from "node:child_process";

const steps: [string, string[]][] = [
  ["typecheck", ["tsc", "--noEmit"]],
  ["lint", ["eslint", "."]],
  ["unit + integration", ["vitest", "run"]],
  ["build", ["next", "build", "--webpack"]],
  ["e2e", ["playwright", "test"]],
];
const only = process.argv.slice(2);
for (const [name, args] of steps) {
  if (only.length && !only.includes(name.split(" ")[0]!)) continue;
  console.log(`\n=== ${name}: npx ${args.join(" ")}`);
  const started = Date.now();
  const r = spawnSync("npx", args, { stdio: "inherit", env: process.env });
  console.log(`=== ${name}: ${r.status === 0 ? "ok" : `FAILED (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
