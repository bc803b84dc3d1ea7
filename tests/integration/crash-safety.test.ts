// Crash safety (issue 7, item 6): real worker processes killed with SIGKILL in the middle of their work, and a
// PostgreSQL restart under load. What a user would notice is checked: every edit made in the portal is in the history
// exactly once, every offline event entered the inbox once and left the portal's queue, no accepted event is lost.
// The whole file runs on a database server of its own (tests/support/pg-instance.ts): it is restarted, and it serves
// several processes at once, which the per-worker PGlite of tests/support/test-db.ts cannot do reliably.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disconnectDb, getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { restartBackfill, runBackfill } from "@/lib/history/backfill";
import { LEASE_MS } from "@/lib/jobs/lease";
import { enqueueJob } from "@/lib/jobs/queue";
import { AUTH_CONNECTOR } from "@/lib/lifecycle/registry";
import { eventBody } from "../fake-portal/core";
import { startAppWithFake } from "../support/lifecycle-env";
import { startDedicatedDb, type DedicatedDb } from "../support/pg-instance";
import { killAllWorkers, startWorker, workerEnv } from "../support/spawn-worker";

type Env = Awaited<ReturnType<typeof startAppWithFake>>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
/** Long enough for a killed worker's lease to expire and its rows to be processed again, on a slow machine. */
const RECOVERY_MS = LEASE_MS * 4 + 60_000;
/** Per test: several worker start-ups (tsx compiles the app each time) plus a recovery, on a noisy 2-core machine. */
const TEST_MS = 400_000;

async function eventually<T>(what: string, probe: () => Promise<T> | T, ms = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`not in ${ms} ms: ${what}`);
    await sleep(25);
  }
}

const portalIdOf = async (env: Env, i = 0) => (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
const processingBy = (portalId: string, workerId: string) => getDb().eventInbox.count({ where: { portalId, status: "processing", lockedBy: workerId } });
const dealOf = (payload: unknown) => Number(((payload as { data?: { FIELDS?: { ID?: string } } }).data?.FIELDS?.ID));

/** Each edited deal has exactly one change, of its title to the value it was given; no other deal changed. */
async function expectOneChangePerEdit(portalId: string, edited: Map<number, string>) {
  const changes = await getDb().fieldChange.findMany({ where: { portalId, entityType: "deal" }, select: { entityId: true, field: true, newValue: true } });
  const keys = changes.map((c) => `${c.entityId}:${c.field}`);
  expect(keys.length - new Set(keys).size).toBe(0); // no duplicates
  expect(new Set(changes.map((c) => c.entityId))).toEqual(new Set(edited.keys()));
  for (const [id, title] of edited) expect(changes.filter((c) => c.entityId === id && c.field === "TITLE").map((c) => c.newValue)).toEqual([title]);
}

/** The database refuses every acknowledgement ('processing' → 'done') meanwhile: effects land, acks do not. */
async function withAcknowledgementsRefused(work: () => Promise<void>) {
  const db = getDb();
  await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION crash_test_refuse_ack() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.status = 'done' AND OLD.status <> 'done' THEN RAISE EXCEPTION 'acknowledgement refused by the crash test'; END IF; RETURN NEW; END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER crash_test_refuse_ack BEFORE UPDATE ON "EventInbox" FOR EACH ROW EXECUTE FUNCTION crash_test_refuse_ack()`);
  try {
    await work();
  } finally {
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS crash_test_refuse_ack ON "EventInbox"`);
  }
}

/** Points this process's Prisma client at another database; returns the way back. */
async function useDatabase(url: string): Promise<() => Promise<void>> {
  const previous = process.env.DATABASE_URL;
  await disconnectDb();
  process.env.DATABASE_URL = url;
  resetEnvForTests();
  return async () => {
    await disconnectDb();
    process.env.DATABASE_URL = previous;
    resetEnvForTests();
  };
}

let db: DedicatedDb;
let restore: (() => Promise<void>) | undefined;
let env: Env;
let online: string; // portal #0: CRM events arrive online (no safe offline queue)
let offline: string; // portal #1: CRM events queue offline (rest_offline_extended)
let loaded: string; // portal #2: online, for the database restart
beforeAll(async () => {
  db = await startDedicatedDb(); // never the shared cluster: other test workers use it
  restore = await useDatabase(db.url);
  env = await startAppWithFake({ portals: 3, deals: 1000 });
  for (const i of [0, 2]) await env.control("features", { code: "rest_offline_extended", value: "N" }, i);
  for (const i of [0, 1, 2]) await env.control("install", { mode: "ui", finish: true }, i);
  [online, offline, loaded] = [await portalIdOf(env, 0), await portalIdOf(env, 1), await portalIdOf(env, 2)];
  for (const id of [online, offline, loaded]) await runBackfill(id); // the baseline the first edit is diffed against
}, 300_000);
afterAll(async () => {
  await killAllWorkers();
  await env?.stop();
  await restore?.();
  await db?.destroy();
}, 120_000);

describe("a worker killed with SIGKILL", () => {
  const edit = async (portal: number, ids: number[], round: number, edited: Map<number, string>) => {
    for (const id of ids) {
      edited.set(id, `round ${round}, deal ${id}`);
      await env.control(`crm/deal/${id}`, { fields: { TITLE: edited.get(id) }, userId: 2 }, portal);
    }
  };

  it("inbox: rows held by a killed worker are processed again, and every edit is recorded exactly once", async () => {
    const edited = new Map<number, string>();
    const arrived = () => eventually("the online events are in the inbox", async () => (await getDb().eventInbox.count({ where: { portalId: online } })) === edited.size);
    await env.control("faults", { latencyMs: [800, 800] }, 0); // every REST call of the batch takes 0.8 s
    for (const round of [1, 2]) {
      await edit(0, range(round * 20 - 19, 15), round, edited);
      await arrived();
      const worker = await startWorker(workerEnv());
      await eventually("the worker claims the new rows", async () => (await processingBy(online, worker.id)) > 0);
      await worker.kill9();
      expect(await processingBy(online, worker.id)).toBeGreaterThan(0); // it died holding them
    }
    // Round 3: the kill lands after the changes are committed but before the rows are acknowledged.
    await env.control("faults", { latencyMs: [0, 0] }, 0);
    const round3 = range(41, 15);
    await withAcknowledgementsRefused(async () => {
      await edit(0, round3, 3, edited);
      await arrived();
      const worker = await startWorker(workerEnv());
      await eventually("changes stored while their rows are unacknowledged", () => getDb().fieldChange.count({ where: { portalId: online, entityId: { in: round3 } } }));
      await worker.kill9();
      expect(await processingBy(online, worker.id)).toBeGreaterThan(0);
    });
    const last = await startWorker(workerEnv());
    await eventually("every row done", async () => (await getDb().eventInbox.count({ where: { portalId: online, status: { not: "done" } } })) === 0, RECOVERY_MS);
    expect(await last.stop(), last.output().slice(-6000)).toBe(0);
    const rows = await getDb().eventInbox.findMany({ where: { portalId: online }, select: { payload: true } });
    expect(rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b)).toEqual([...edited.keys()].sort((a, b) => a - b));
    await expectOneChangePerEdit(online, edited);
  }, TEST_MS);

  it("offline: a worker killed between event.offline.get and event.offline.clear loses and doubles nothing", async () => {
    const edited = new Map<number, string>();
    const queue = () => env.state(1).offline.filter((x) => x.connector === AUTH_CONNECTOR);
    await env.control("faults", { latencyMs: [1500, 1500] }, 1);
    let killedMidDrain = 0;
    for (let round = 1; round <= 4 && killedMidDrain < 2; round++) {
      await edit(1, range(100 + round * 20, 20), round, edited);
      await eventually("the edits are queued", () => queue().filter((x) => x.PROCESS_ID === null).length >= 20);
      const seen = (await getDb().offlineClaim.findMany({ where: { portalId: offline }, select: { processId: true } })).map((c) => c.processId);
      const worker = await startWorker(workerEnv());
      await enqueueJob("offline.drain", { portalId: offline }); // as ONOFFLINEEVENT does
      const claim = await eventually("a batch is reserved (get with clear=0 answered)", () =>
        getDb().offlineClaim.findFirst({ where: { portalId: offline, status: "claimed", processId: { notIn: seen } } }), 120_000);
      await worker.kill9();
      const after = await getDb().offlineClaim.findUniqueOrThrow({ where: { id: claim.id } });
      if (after.status === "claimed" && queue().some((x) => x.PROCESS_ID === claim.processId)) killedMidDrain++; // not cleared yet
    }
    expect(killedMidDrain).toBe(2);
    await env.control("faults", { latencyMs: [0, 0] }, 1);
    const last = await startWorker(workerEnv());
    await enqueueJob("offline.drain", { portalId: offline });
    await eventually("the portal's queue is empty", () => queue().length === 0, RECOVERY_MS);
    await eventually("every offline event processed", async () => (await getDb().eventInbox.count({ where: { portalId: offline, status: { not: "done" } } })) === 0, RECOVERY_MS);
    expect(await last.stop(), last.output().slice(-6000)).toBe(0);
    expect(await getDb().offlineClaim.count({ where: { portalId: offline, status: { not: "cleared" } } })).toBe(0);
    const rows = await getDb().eventInbox.findMany({ where: { portalId: offline }, select: { payload: true, source: true } });
    expect(rows.every((r) => r.source === "offline")).toBe(true);
    expect(rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b)).toEqual([...edited.keys()].sort((a, b) => a - b)); // each exactly once
    await expectOneChangePerEdit(offline, edited);
  }, TEST_MS);
});

describe("a worker killed with SIGKILL mid-backfill", () => {
  it("resumes the pass: every record read, none counted twice, no change invented", async () => {
    await restartBackfill(online, "crash-test"); // a pass over records that all have snapshots already
    await env.control("faults", { latencyMs: [1500, 1500] }, 0); // each of the pass's requests takes 1.5 s
    const worker = await startWorker(workerEnv());
    await eventually("the pass is under way", async () => (await getDb().backfillRun.count({ where: { portalId: online, status: "done" } })) >= 1, 120_000);
    await worker.kill9();
    expect((await getDb().backfillRun.findMany({ where: { portalId: online } })).some((r) => r.status !== "done")).toBe(true); // it died mid-pass
    await env.control("faults", { latencyMs: [0, 0] }, 0);
    const last = await startWorker(workerEnv());
    await eventually("the pass completes", async () => (await getDb().backfillRun.count({ where: { portalId: online, status: "done" } })) === 4, RECOVERY_MS);
    expect(await last.stop(), last.output().slice(-6000)).toBe(0);
    const runs = await getDb().backfillRun.findMany({ where: { portalId: online } });
    for (const r of runs) expect(r.processed, r.entityType).toBe(r.total);
    expect(await getDb().crmSnapshot.count({ where: { portalId: online } })).toBe(runs.reduce((n, r) => n + (r.total ?? 0), 0));
    expect(await getDb().fieldChange.count({ where: { portalId: online, source: "backfill" } })).toBe(0);
  }, TEST_MS);
});

describe("a database restart under load", () => {
  beforeAll(() => env.control("faults", { dropEvents: 1 }, 2)); // the test delivers each event itself, to see every answer

  /** Edits deal `id` in the portal and delivers its ONCRMDEALUPDATE as Bitrix24 would; resolves with the answer. */
  const deliver = async (id: number) => {
    await env.control(`crm/deal/${id}`, { fields: { TITLE: `load ${id}` }, userId: 2 }, 2);
    const binding = env.state(2).bindings.find((b) => b.event === "ONCRMDEALUPDATE" && !b.offline)!;
    const body = eventBody(env.fake.fake, env.state(2), "ONCRMDEALUPDATE", { FIELDS: { ID: String(id) } }, 2, binding.id);
    const start = Date.now();
    const res = await fetch(binding.handler, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, signal: AbortSignal.timeout(60_000) }).catch(() => null);
    return { id, status: res?.status ?? 0, text: (await res?.text()) ?? "", start, end: Date.now() };
  };

  it("answers every event 2xx through the restart and the worker, never restarted, processes each exactly once", async () => {
    await env.control("faults", { latencyMs: [200, 200] }, 2); // batches are in flight when the database goes away
    const worker = await startWorker(workerEnv());
    const answers: Awaited<ReturnType<typeof deliver>>[] = [];
    let next = 1;
    let stop = false;
    const poster = async () => { while (!stop && next < 1000) { answers.push(await deliver(next++)); await sleep(50); } };
    const posting = Promise.all([poster(), poster(), poster()]);
    await eventually("the worker records changes", async () => (await getDb().fieldChange.count({ where: { portalId: loaded } })) >= 5);
    const downAt = Date.now();
    await db.stop();
    await sleep(1500);
    await db.start();
    const upAt = Date.now();
    await eventually("events are posted after the restart", () => answers.filter((a) => a.start > upAt).length >= 20);
    stop = true;
    await posting;
    expect(answers.filter((a) => a.status < 200 || a.status >= 300)).toEqual([]);
    expect(answers.filter((a) => a.start < upAt && a.end > downAt).length).toBeGreaterThan(0); // some waited the outage out
    await eventually("every accepted event processed", async () => (await getDb().eventInbox.count({ where: { portalId: loaded, status: "done" } })) === answers.length, RECOVERY_MS);
    expect(worker.alive()).toBe(true); // it recovered by itself
    // A clean exit also proves no pool connection leaked in the outage (lib/db-pool.ts): $disconnect waits for all.
    expect(await worker.stop(), worker.output().slice(-6000)).toBe(0);
    const rows = await getDb().eventInbox.findMany({ where: { portalId: loaded }, select: { payload: true } });
    expect(rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b)).toEqual(answers.map((a) => a.id).sort((a, b) => a - b));
    await expectOneChangePerEdit(loaded, new Map(answers.map((a) => [a.id, `load ${a.id}`])));
  }, TEST_MS);

  it("answers 503 with a clear message when the database stays down", async () => {
    await db.stop();
    try {
      const answer = await deliver(1000); // a deal the load above never touched
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toMatchObject({ error: "database_unavailable", message: expect.stringMatching(/database is unavailable.*not stored/i) });
    } finally {
      await db.start();
    }
  });
});
