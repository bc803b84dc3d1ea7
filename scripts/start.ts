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
// next's own bin, spawned directly like the worker below: a signal to this process reaches the server itself
children.push(
  spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", process.env.PORT ?? "3000"], {
    stdio: "inherit",
    env: { ...process.env, ...(split ? { WORKER_LANES: "capture" } : {}) },
  }),
);
if (split) {
  // `npm run worker`'s own command, spawned directly: a signal to this process then reaches the worker itself (npm and
  // tsx in between do not pass it on). DATABASE_URL is set here (scripts/with-db.ts ran before this script).
  children.push(
    spawn(process.execPath, ["--import", "tsx", "--conditions=react-server", "lib/composition/main.ts"], {
      stdio: "inherit",
      env: { ...process.env, WORKER_LANES: "background" },
    }),
  );
}

// One stops, all stop: a signal stops both children (exit 0); a child that exits on its own — a crashed background
// worker must not go unnoticed — stops the other and gives its code (non-zero: for the supervisor to restart).
let exitCode: number | null = null;
const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
function stopAll(code: number) {
  exitCode ??= code;
  for (const child of children) if (running(child)) child.kill("SIGTERM");
}
for (const child of children) {
  child.on("exit", (code) => {
    stopAll(code ?? 1);
    if (!children.some(running)) process.exit(exitCode ?? 0);
  });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stopAll(0));
