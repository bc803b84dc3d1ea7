// Crash safety (issue 7, item 6): real worker processes killed with SIGKILL in the middle of their work, and a
// PostgreSQL restart under load. What a user would notice is checked: every edit made in the portal is in the history
// exactly once, every offline event entered the inbox once and left the portal's queue, no accepted event is lost.
// The whole file runs on a database server of its own (tests/support/pg-instance.ts): it is restarted, and it serves
// several processes at once, which the per-worker PGlite of tests/support/test-db.ts cannot do reliably.
// Every crash lands at a known step, never inside a time window: the fake holds the call the process is making
// (POST /_fake/hold) and the process is killed once the call shows in the fake's log; the database refuses to let
// rows go; requests sent during the outage are known to be waiting for the database (they logged their first retry).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { disconnectDb, getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { log } from "@/lib/log";
import { restartBackfill, runBackfill } from "@/lib/history/backfill";
import { LEASE_MS } from "@/lib/jobs/lease";
import { enqueueJob } from "@/lib/jobs/queue";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import { eventBody } from "../fake-portal/core";
import type { HoldOutcome } from "../fake-portal/holds";
import type { LogEntry } from "../fake-portal/types";
import { startAppWithFake } from "../support/lifecycle-env";
import { startDedicatedDb, type DedicatedDb } from "../support/pg-instance";
import { killAllWorkers, startWorker, workerEnv } from "../support/spawn-worker";
import { sleep } from "@/lib/sleep";

type Env = Awaited<ReturnType<typeof startAppWithFake>>;
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

const portalIdOf = async (env: Env, i = 0) =>
  (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
const processingBy = (portalId: string, workerId: string) =>
  getDb().eventInbox.count({ where: { portalId, status: "processing", lockedBy: workerId } });
const dealOf = (payload: unknown) => Number((payload as { data?: { FIELDS?: { ID?: string } } }).data?.FIELDS?.ID);

/** Each edited deal has exactly one change, of its title to the value it was given; no other deal changed. */
async function expectOneChangePerEdit(portalId: string, edited: Map<number, string>) {
  // moves imported from Bitrix24's stage history (stage-history.ts, a job the backfill queues) are no edit of these
  const where = { portalId, entityType: "deal", source: { not: "stagehistory" } };
  const changes = await getDb().fieldChange.findMany({
    where,
    select: { entityId: true, field: true, newValue: true },
  });
  const keys = changes.map((c) => `${c.entityId}:${c.field}`);
  expect(keys.length - new Set(keys).size).toBe(0); // no duplicates
  expect(new Set(changes.map((c) => c.entityId))).toEqual(new Set(edited.keys()));
  for (const [id, title] of edited)
    expect(changes.filter((c) => c.entityId === id && c.field === "TITLE").map((c) => c.newValue)).toEqual([title]);
}

/**
 * While `work` runs the database keeps inbox rows above `afterId` in 'processing' once a worker claimed them: their
 * effects land, but neither the acknowledgement ('done') nor a put-back of the lease goes through.
 */
async function withRowsPinned(afterId: bigint, work: () => Promise<void>) {
  const db = getDb();
  await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION crash_test_pin() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.id > ${afterId} AND OLD.status = 'processing' AND NEW.status <> 'processing' THEN
        RAISE EXCEPTION 'row % pinned in processing by the crash test', OLD.id;
      END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER crash_test_pin BEFORE UPDATE ON "EventInbox" FOR EACH ROW
    EXECUTE FUNCTION crash_test_pin()`);
  try {
    await work();
  } finally {
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS crash_test_pin ON "EventInbox"`);
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

const fakeLog = async (portal: number, since = 0) =>
  (await env.control(`log?since=${since}`, {}, portal, "GET")) as unknown as LogEntry[];

/**
 * Holds portal #`portal`'s next call of `method` (tests/fake-portal/holds.ts). `arrived` waits until the call shows in
 * the fake's log, unanswered; `release` lets it go ("drop": it never ran; "run": the portal runs it, for a caller that
 * may be dead), checks that the call seen was the one held, and returns its parameters.
 */
/** Live capture's batched read of deals by id (lib/history/items.ts fetchItems), not a backfill page of them. */
const DEAL_READ = "crm.item.list?entityTypeId=2&select[0]=*&useOriginalUfNames=Y&filter[@id]";

async function holdNext(portal: number, method: string, contains?: string) {
  const since = (await fakeLog(portal)).at(-1)?.n ?? 0;
  await env.control("hold", { method, contains }, portal);
  let seen: LogEntry | undefined;
  return {
    async arrived() {
      const unanswered = async () => (await fakeLog(portal, since)).find((e) => e.rest === method && e.status === 0);
      seen = await eventually(`${method} reaches portal #${portal} and is held`, unanswered, 120_000);
    },
    async release(outcome: HoldOutcome) {
      const released = await env.control("release", { method, outcome }, portal);
      expect(released).toMatchObject({ held: true, logN: seen?.n });
      return released.params as Record<string, unknown>;
    },
  };
}

describe("a worker killed with SIGKILL", () => {
  const edit = async (portal: number, ids: number[], round: number, edited: Map<number, string>) => {
    for (const id of ids) {
      edited.set(id, `round ${round}, deal ${id}`);
      await env.control(`crm/deal/${id}`, { fields: { TITLE: edited.get(id) }, userId: 2 }, portal);
    }
  };

  it(
    "inbox: rows held by a killed worker are processed again, and every edit is recorded exactly once",
    async () => {
      const edited = new Map<number, string>();
      const inbox = (where = {}) => getDb().eventInbox.count({ where: { portalId: online, ...where } });
      const arrived = () =>
        eventually("the online events are in the inbox", async () => (await inbox()) === edited.size);
      // Rounds 1 and 2: the kill lands after the worker claimed the rows, while it reads the records from the portal.
      for (const round of [1, 2]) {
        await edit(0, range(round * 20 - 19, 15), round, edited);
        await arrived();
        const read = await holdNext(0, "batch", DEAL_READ); // capture's batched read of the deals
        const worker = await startWorker(workerEnv());
        await read.arrived();
        await worker.kill9();
        await read.release("drop");
        expect(await processingBy(online, worker.id)).toBeGreaterThan(0); // it died holding them
      }
      // Round 3: the kill lands after the changes are committed but before the rows are acknowledged.
      const round3 = range(41, 15);
      const lastId = (await getDb().eventInbox.findFirstOrThrow({ orderBy: { id: "desc" }, select: { id: true } })).id;
      await withRowsPinned(lastId, async () => {
        await edit(0, round3, 3, edited);
        await arrived();
        const worker = await startWorker(workerEnv());
        const changes = () =>
          getDb().fieldChange.count({
            where: { portalId: online, entityId: { in: round3 }, source: { not: "stagehistory" } },
          });
        const stored = async () => (await changes()) === round3.length;
        await eventually("round 3's changes stored while their rows cannot be acknowledged", stored, 120_000);
        await worker.kill9();
        const pinned = { portalId: online, id: { gt: lastId }, status: "processing" as const, lockedBy: worker.id };
        expect(await getDb().eventInbox.count({ where: pinned })).toBe(round3.length); // it died holding them
      });
      const last = await startWorker(workerEnv());
      await eventually("every row done", async () => (await inbox({ status: { not: "done" } })) === 0, RECOVERY_MS);
      expect(await last.stop(), last.output().slice(-6000)).toBe(0);
      const rows = await getDb().eventInbox.findMany({ where: { portalId: online }, select: { payload: true } });
      expect(rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b)).toEqual(
        [...edited.keys()].sort((a, b) => a - b),
      );
      await expectOneChangePerEdit(online, edited);
    },
    TEST_MS,
  );

  it(
    "offline: workers killed before event.offline.clear reached the portal, and after it ran there, lose and double " +
      "nothing",
    async () => {
      const edited = new Map<number, string>();
      const queue = () => env.state(1).offline.filter((x) => x.connector === AUTH_CONNECTOR);
      const queued = (n: number) =>
        eventually("the edits are queued", () => queue().filter((x) => x.PROCESS_ID === null).length === n);
      const claimOf = (processId: string) =>
        getDb().offlineClaim.findUniqueOrThrow({ where: { portalId_processId: { portalId: offline, processId } } });
      const drainBy = async () => {
        const worker = await startWorker(workerEnv());
        await enqueueJob("offline.drain", { portalId: offline }); // as ONOFFLINEEVENT does
        return worker;
      };

      // Round 1: a batch is reserved (get clear=0), claimed and stored in the inbox; its clear never reaches the portal.
      await edit(1, range(121, 20), 1, edited);
      await queued(20);
      const clear1 = await holdNext(1, "event.offline.clear");
      const w1 = await drainBy();
      await clear1.arrived();
      await w1.kill9();
      const batch = String((await clear1.release("drop")).process_id);
      expect(await claimOf(batch)).toMatchObject({ status: "claimed", eventCount: 20 });
      expect(queue().filter((x) => x.PROCESS_ID === batch)).toHaveLength(20); // still reserved in the portal

      // Round 2: the next worker resumes that batch by its process_id; the portal runs its clear, the answer is lost.
      await edit(1, range(141, 20), 2, edited);
      await queued(20);
      const clear2 = await holdNext(1, "event.offline.clear");
      const w2 = await drainBy();
      await clear2.arrived();
      await w2.kill9();
      expect((await clear2.release("run")).process_id).toBe(batch);
      await eventually("the portal ran the clear", () => !queue().some((x) => x.PROCESS_ID === batch));
      expect(await claimOf(batch)).toMatchObject({ status: "claimed" }); // the app never learnt it

      const last = await drainBy();
      await eventually("the portal's queue is empty", () => queue().length === 0, RECOVERY_MS);
      const notDone = () => getDb().eventInbox.count({ where: { portalId: offline, status: { not: "done" } } });
      await eventually("every offline event processed", async () => (await notDone()) === 0, RECOVERY_MS);
      expect(await last.stop(), last.output().slice(-6000)).toBe(0);
      expect(await getDb().offlineClaim.count({ where: { portalId: offline, status: { not: "cleared" } } })).toBe(0);
      const rows = await getDb().eventInbox.findMany({
        where: { portalId: offline },
        select: { payload: true, source: true },
      });
      expect(rows.every((r) => r.source === "offline")).toBe(true);
      const deals = rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b);
      expect(deals).toEqual([...edited.keys()].sort((a, b) => a - b)); // each exactly once
      await expectOneChangePerEdit(offline, edited);
    },
    TEST_MS,
  );
});

describe("a worker killed with SIGKILL mid-backfill", () => {
  it(
    "resumes the pass: every record read, none counted twice, no change invented",
    async () => {
      // This pass alone: a sweep (it lists contacts too, and the worker runs it beside capture) or work left by the
      // killed workers of earlier tests must not reach the held call first.
      await getDb().portal.update({ where: { id: online }, data: { reconcileEveryMin: 0 } });
      await getDb().job.deleteMany({
        where: { portalId: online, status: { in: ["pending", "running"] }, kind: { not: "inline" } },
      });
      await restartBackfill(online, "crash-test"); // a pass over records that all have snapshots already
      // the pass's first call after the deals are done: the count of contacts (a plain call, JSON body)
      const contacts = await holdNext(0, "crm.item.list", '"entityTypeId":3,');
      const worker = await startWorker(workerEnv());
      await contacts.arrived();
      await worker.kill9();
      await contacts.release("drop");
      const readRuns = () => getDb().backfillRun.findMany({ where: { portalId: online } });
      const status = async () => Object.fromEntries((await readRuns()).map((r) => [r.entityType, r.status]));
      // Deals done; every later type of the pass (contacts, companies, leads, then quotes, invoices, smart processes)
      // still pending.
      const { deal, ...rest } = await status();
      expect(deal).toBe("done");
      expect(Object.keys(rest)).toEqual(expect.arrayContaining(["contact", "company", "lead"]));
      expect(
        Object.values(rest).every((s) => s === "pending"),
        JSON.stringify(rest),
      ).toBe(true);
      const last = await startWorker(workerEnv());
      const complete = async () => Object.values(await status()).every((s) => s === "done");
      await eventually("the pass completes", complete, RECOVERY_MS);
      expect(await last.stop(), last.output().slice(-6000)).toBe(0);
      const runs = await getDb().backfillRun.findMany({ where: { portalId: online } });
      for (const r of runs) expect(r.processed, r.entityType).toBe(r.total);
      expect(await getDb().crmSnapshot.count({ where: { portalId: online } })).toBe(
        runs.reduce((n, r) => n + (r.total ?? 0), 0),
      );
      expect(await getDb().fieldChange.count({ where: { portalId: online, source: "backfill" } })).toBe(0);
    },
    TEST_MS,
  );
});

/**
 * Pins a worker inside its snapshot transaction: this test's own session locks the rows of `ids` that the worker's
 * `SELECT … FOR UPDATE` (lib/history/snapshots.ts) needs; `queued` waits until another session waits for them. A real
 * server only: PGlite serves one session at a time, where the worker would wait before its transaction, not inside.
 */
async function lockSnapshots(portalId: string, ids: number[]) {
  const client = new pg.Client({ connectionString: db.url });
  client.on("error", () => undefined); // the server stops under it
  await client.connect();
  await client.query("BEGIN");
  await client.query(
    `SELECT 1 FROM "CrmSnapshot" WHERE "portalId" = $1 AND "entityType" = 'deal'
    AND "entityId" = ANY($2::int[]) FOR UPDATE`,
    [portalId, ids],
  );
  // Asked from another session: inside a transaction pg_stat_activity is a snapshot taken at its first read.
  const waiting = async () =>
    (
      await getDb().$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE '%"CrmSnapshot"%FOR UPDATE%'`
    )[0]!.n > 0;
  return {
    queued: () => eventually("the worker waits for the locked snapshots inside its transaction", waiting),
    end: () => client.end().catch(() => undefined),
  };
}

describe("a database restart under load", () => {
  beforeAll(() => env.control("faults", { dropEvents: 1 }, 2)); // the test delivers each event itself, to see every answer

  /** Edits deal `id` in the portal and delivers its ONCRMDEALUPDATE as Bitrix24 would; resolves with the answer. */
  const deliver = async (id: number) => {
    await env.control(`crm/deal/${id}`, { fields: { TITLE: `load ${id}` }, userId: 2 }, 2);
    const binding = env.state(2).bindings.find((b) => b.event === "ONCRMDEALUPDATE" && !b.offline)!;
    const body = eventBody(
      env.fake.fake,
      env.state(2),
      "ONCRMDEALUPDATE",
      { FIELDS: { ID: String(id) } },
      2,
      binding.id,
    );
    const start = Date.now();
    const res = await fetch(binding.handler, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      signal: AbortSignal.timeout(60_000),
    }).catch(() => null);
    return { id, status: res?.status ?? 0, text: (await res?.text()) ?? "", start, end: Date.now() };
  };

  it(
    "answers every event 2xx through the restart and the worker, never restarted, processes each exactly once",
    async () => {
      const warn = vi.spyOn(log, "warn");
      const firstRetry = ([o, msg]: unknown[]) =>
        msg === "database unavailable, retrying" && (o as { attempt?: number }).attempt === 1;
      const retrying = () => warn.mock.calls.filter(firstRetry).length;
      const worker = await startWorker(workerEnv());
      let down = false; // a failure in the outage must not leave the server stopped for the next test
      const stopDb = async () => {
        down = true;
        await db.stop();
      };
      try {
        // Before the outage: 10 events accepted, and the worker's batch for them stopped at a known step.
        const read = await holdNext(2, "batch", DEAL_READ); // the worker's read of the edited deals
        const before = await Promise.all(range(1, 10).map(deliver));
        await read.arrived();
        if (db.kind === "postgres") {
          const lock = await lockSnapshots(loaded, range(1, 10));
          await read.release("run");
          await lock.queued(); // the worker is inside its transaction when the server goes away
          await stopDb();
          await lock.end();
        } else {
          await stopDb();
          await read.release("run"); // PGlite: the worker goes on from its read into a database that is gone
        }
        // During: 10 events posted while the server is down, each known to be waiting for it (its first retry logged).
        warn.mockClear();
        const answeredEarly: unknown[] = [];
        const early = (a: Awaited<ReturnType<typeof deliver>>) => {
          if (down) answeredEarly.push(a);
          return a;
        };
        const waiting = range(11, 10).map((id) => deliver(id).then(early));
        const settled = () => retrying() >= 10 || answeredEarly.length > 0;
        await eventually("each request sent in the outage waits for the database", settled);
        expect(answeredEarly).toEqual([]); // none gave up while the server was down
        await db.start();
        down = false;
        const during = await Promise.all(waiting);
        // After: 10 more, into a server that came back.
        const after = await Promise.all(range(21, 10).map(deliver));
        const answers = [...before, ...during, ...after];
        expect(answers.filter((a) => a.status < 200 || a.status >= 300)).toEqual([]);
        const done = () => getDb().eventInbox.count({ where: { portalId: loaded, status: "done" } });
        await eventually("every accepted event processed", async () => (await done()) === answers.length, RECOVERY_MS);
        expect(worker.alive()).toBe(true); // it recovered by itself
        // A clean exit also proves no pool connection leaked in the outage (lib/db-pool.ts): $disconnect waits for all.
        expect(await worker.stop(), worker.output().slice(-6000)).toBe(0);
        const rows = await getDb().eventInbox.findMany({ where: { portalId: loaded }, select: { payload: true } });
        expect(rows.map((r) => dealOf(r.payload)).sort((a, b) => a - b)).toEqual(range(1, 30));
        await expectOneChangePerEdit(loaded, new Map(answers.map((a) => [a.id, `load ${a.id}`])));
      } finally {
        warn.mockRestore();
        if (down) await db.start();
      }
    },
    TEST_MS,
  );

  it("answers 503 with a clear message when the database stays down", async () => {
    await db.stop();
    try {
      const answer = await deliver(1000); // a deal the load above never touched
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toMatchObject({
        error: "database_unavailable",
        message: expect.stringMatching(/database is unavailable.*not stored/i),
      });
    } finally {
      await db.start();
    }
  });
});
