import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { nextRun, runWorker, schedule } from "@/lib/composition/run-worker";
import { claimJobs, finishJob, runOnce } from "@/lib/jobs/queue";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
});
afterAll(() => env.stop());

describe("worker", () => {
  it("schedules the fallback poll, so changes whose notification was dropped still arrive", async () => {
    const portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
    await env.control("faults", { dropEvents: 1 }); // Bitrix24 never retries a lost delivery
    for (const id of [11, 12]) await env.control(`crm/deal/${id}`, { fields: { TITLE: `dropped ${id}` }, userId: 2 });
    expect(env.state().counters.eventsDropped).toBeGreaterThan(0);
    const stop = new AbortController();
    const worker = runWorker(stop.signal);
    try {
      await waitUntil(
        async () => (await getDb().eventInbox.count({ where: { portalId, source: "offline", status: "done" } })) === 2,
        20_000,
      );
    } finally {
      stop.abort();
      await worker;
      await env.control("faults", { dropEvents: 0 });
    }
    // the schedule queued the app.info probe once (it runs in the background lane, after this portal's backfill)
    expect(await getDb().job.count({ where: { portalId, kind: "portal.probe" } })).toBe(1);
    expect(env.state().offline).toHaveLength(0);
  });

  it("never claims the row of lifecycle work that another instance is running inline", async () => {
    let claimed: Awaited<ReturnType<typeof claimJobs>> = [];
    // runOnce's row exists, still pending, for a moment before it is marked running: a worker polling then must skip it.
    await runOnce(`inline-test-${Date.now()}`, null, async () => {
      claimed = await claimJobs("other-worker", 50);
      return "done";
    });
    expect(claimed.filter((j) => j.kind === "inline")).toEqual([]);
    await getDb().job.create({ data: { kind: "inline", dedupeKey: `inline-pending-${Date.now()}`, payload: {} } });
    expect((await claimJobs("other-worker", 50)).filter((j) => j.kind === "inline")).toEqual([]);
  });

  it("claims background work fairly: one job per portal, none for a portal whose background work is running", async () => {
    const db = getDb();
    const a = (await db.portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
    const b = (
      await db.portal.create({
        data: {
          memberId: `fair-${Date.now()}`,
          domain: "fair.example",
          clientEndpoint: "https://fair.example/rest/",
          serverEndpoint: "https://fair.example/rest/",
          installStage: "finished",
        },
      })
    ).id;
    await db.job.deleteMany({ where: { status: { in: ["pending", "running"] }, kind: { not: "inline" } } }); // earlier tests' claims
    const past = (s: number) => new Date(Date.now() - s * 1000);
    // Portal A queued a long backfill's slices first; B's sweep came later: B must not wait for all of A's.
    for (const s of [30, 29, 28])
      await db.job.create({ data: { kind: "history.backfill", portalId: a, runAt: past(s) } });
    await db.job.create({ data: { kind: "history.reconcile", portalId: b, runAt: past(10) } });
    await db.job.create({ data: { kind: "offline.drain", portalId: a, runAt: past(40) } });
    const first = await claimJobs("w1", 5, "background");
    expect(first.map((j) => [j.portalId, j.kind]).sort()).toEqual(
      [
        [a, "history.backfill"],
        [b, "history.reconcile"],
      ].sort(),
    );
    // A second worker finds A's next slice held back while A's first one runs, and nothing else of the lane.
    expect(await claimJobs("w2", 5, "background")).toEqual([]);
    // The capture lane takes the drain that the background lane left alone.
    expect((await claimJobs("w2", 5, "capture")).map((j) => j.kind)).toEqual(["offline.drain"]);
    await finishJob(first.find((j) => j.portalId === a)!.id, { ok: true });
    expect((await claimJobs("w2", 5, "background")).map((j) => j.portalId)).toEqual([a]);
  });

  it("spreads portals' scheduled runs over the period, each at its own phase, queued ahead of it", () => {
    // 200 portals' minute polls used to fall due together at the minute's start, in front of every portal's capture
    const now = Date.parse("2026-12-02T12:00:20Z");
    const runs = Array.from({ length: 200 }, (_, i) => nextRun(`portal-${i}`, 60_000, now));
    for (const r of runs) {
      expect(r.runAt.getTime()).toBeGreaterThan(now);
      expect(r.runAt.getTime()).toBeLessThanOrEqual(now + 60_000);
    }
    const perSecond = new Map<number, number>();
    for (const r of runs)
      perSecond.set(
        Math.floor(r.runAt.getTime() / 1000),
        (perSecond.get(Math.floor(r.runAt.getTime() / 1000)) ?? 0) + 1,
      );
    // not one instant: ~3 a second over the minute (200 at once before)
    expect(perSecond.size).toBeGreaterThan(45);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(12);
    // stable: a portal keeps its phase, and the run after a due one is one period later
    const one = nextRun("portal-7", 60_000, now);
    expect(nextRun("portal-7", 60_000, now + 1000)).toEqual(one);
    expect(nextRun("portal-7", 60_000, one.runAt.getTime())).toEqual({
      due: one.due + 1,
      runAt: new Date(one.runAt.getTime() + 60_000),
    });
  });

  it("adds no scheduled run while the portal's previous one still waits: a lagging worker meets one, not a pile", async () => {
    const db = getDb();
    const portalId = (await db.portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
    await db.job.deleteMany({ where: { portalId, kind: "offline.drain", status: "pending" } });
    await db.job.create({ data: { kind: "offline.drain", portalId, runAt: new Date(Date.now() + 3600_000) } });
    await db.job.updateMany({
      where: { portalId, kind: "offline.drain", dedupeKey: { not: null } },
      data: { dedupeKey: null },
    });
    await schedule();
    expect(await db.job.count({ where: { portalId, kind: "offline.drain", status: "pending" } })).toBe(1);
    await db.job.deleteMany({ where: { portalId, kind: "offline.drain", status: "pending" } });
    await schedule(); // none waiting: the tick queues one
    expect(await db.job.count({ where: { portalId, kind: "offline.drain", status: "pending" } })).toBe(1);
  });

  it("queues this period's missing run as due now, not at its phase gone by: it goes behind drains already asked for", async () => {
    const db = getDb();
    const portalId = (await db.portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
    await db.job.deleteMany({ where: { portalId, kind: "offline.drain" } }); // no run of this period or the next yet
    await db.job.deleteMany({ where: { status: "pending", kind: { in: ["offline.drain", "lifecycle.uninstall"] } } });
    const asked = await db.job.create({ data: { kind: "offline.drain", portalId: null, runAt: new Date() } });
    const before = Date.now();
    await schedule();
    const [run] = await db.job.findMany({ where: { portalId, kind: "offline.drain", status: "pending" } });
    // its phase may have been up to a minute ago; claimJobs takes the oldest runAt first
    expect(run!.runAt.getTime()).toBeGreaterThanOrEqual(before);
    expect((await claimJobs("w3", 1, "capture")).map((j) => j.id)).toEqual([asked.id]);
    await db.job.deleteMany({ where: { kind: "offline.drain", status: { in: ["pending", "running"] } } });
  });

  it("WORKER_LANES=capture works the inbox and capture jobs only; background work waits for its own process", async () => {
    const db = getDb();
    const portalId = (await db.portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
    await db.job.deleteMany({ where: { status: { in: ["pending", "running"] }, kind: { not: "inline" } } });
    const probe = await db.job.create({ data: { kind: "portal.probe", portalId } });
    const drain = await db.job.create({ data: { kind: "offline.drain", portalId } });
    const stop = new AbortController();
    const worker = runWorker(stop.signal, "capture");
    try {
      await waitUntil(
        async () => (await db.job.findUniqueOrThrow({ where: { id: drain.id } })).status === "done",
        20_000,
      );
    } finally {
      stop.abort();
      await worker;
    }
    expect((await db.job.findUniqueOrThrow({ where: { id: probe.id } })).status).toBe("pending");
    const other = new AbortController();
    const background = runWorker(other.signal, "background");
    try {
      await waitUntil(
        async () => (await db.job.findUniqueOrThrow({ where: { id: probe.id } })).status === "done",
        20_000,
      );
    } finally {
      other.abort();
      await background;
    }
  });
});
