// Vitest's global setup on a real PostgreSQL (TEST_DATABASE_URL): every test worker process creates a database of its
// own, `b24test_<pool>_<pid>` (test-db.ts), and nothing dropped them — a developer's PostgreSQL kept some hundred
// databases per full run (1 699 on the machine this was written on). Before a run and after it, this drops those whose
// test process no longer lives: a run beside it on the same machine keeps its own (its processes are alive), and the
// last workers of this run, still exiting when the teardown runs, leave theirs to the next run's start.
import pg from "pg";

const NAME = /^b24test_\d+_(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

export async function dropDeadTestDatabases(adminUrl: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'b24test\\_%'",
    );
    const dead = rows.map((r) => r.datname).filter((name) => !alive(Number(NAME.exec(name)?.[1] ?? process.pid)));
    for (const name of dead) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return dead;
  } finally {
    await admin.end();
  }
}

export async function setup() {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  await dropDeadTestDatabases(url);
  return async () => {
    await dropDeadTestDatabases(url);
  };
}
