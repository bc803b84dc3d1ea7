// `npm start`: production — apply migrations, then serve the app with the worker in the same process
// (WORKER_IN_WEB=1, the default). Scale out with more `npm start` and `npm run worker` processes on one Postgres.
import { spawnSync, spawn } from "node:child_process";

const migrate = spawnSync("npx", ["prisma", "migrate", "deploy"], { stdio: "inherit", env: process.env });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);
const web = spawn("npx", ["next", "start", "-p", process.env.PORT ?? "3000"], { stdio: "inherit", env: process.env });
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => web.kill(sig));
web.on("exit", (code) => process.exit(code ?? 0));
