// `npm start`: production — apply migrations, then serve the app. With WORKER_IN_WEB=1 (the default) the web process
// runs the worker's capture lane, and one worker process beside it runs the background lanes (backfills, sweeps):
// one Node process is one thread, so a million-record backfill inside the web process would delay every other
// portal's capture (issue 15; docs/performance.md "Reconciliation and fairness"). Setting WORKER_LANES yourself, or
// WORKER_IN_WEB=0, keeps one role per process. Scale out with more `npm start` and `npm run worker` processes on one
// Postgres.
import { spawnSync, spawn, type ChildProcess } from "node:child_process";

const migrate = spawnSync("npx", ["prisma", "migrate", "deploy"], { stdio: "inherit", env: process.env });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);
const workerInWeb = ["1", "true", "yes"].includes(process.env.WORKER_IN_WEB ?? "1"); // lib/env.ts reads it so
const split = workerInWeb && !process.env.WORKER_LANES;
const children: ChildProcess[] = [];
let stopping = false;
// next's own bin, spawned directly like the worker below: a signal to this process reaches the server itself
const web = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", process.env.PORT ?? "3000"], {
  stdio: "inherit",
  env: { ...process.env, ...(split ? { WORKER_LANES: "capture" } : {}) },
});
children.push(web);
if (split) {
  // `npm run worker`'s own command, spawned directly: a signal to this process then reaches the worker itself (npm and
  // tsx in between do not pass it on). DATABASE_URL is set here (scripts/with-db.ts ran before this script).
  const worker = spawn(process.execPath, ["--import", "tsx", "--conditions=react-server", "lib/composition/main.ts"], {
    stdio: "inherit",
    env: { ...process.env, WORKER_LANES: "background" },
  });
  worker.on("exit", (code) => {
    if (code !== 0 && !stopping) process.exit(code ?? 1); // a dead background worker must not go unnoticed
  });
  children.push(worker);
}
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    stopping = true;
    for (const child of children) child.kill(sig);
  });
web.on("exit", (code) => {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  process.exit(code ?? 0);
});
