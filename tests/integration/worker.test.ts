import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { runWorker } from "@/lib/jobs/run-worker";
import { claimJobs, runOnce } from "@/lib/jobs/queue";
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
      await waitUntil(async () => (await getDb().eventInbox.count({ where: { portalId, source: "offline", status: "done" } })) === 2, 20_000);
    } finally {
      stop.abort();
      await worker;
      await env.control("faults", { dropEvents: 0 });
    }
    expect(await getDb().job.count({ where: { portalId, kind: "portal.probe", status: "done" } })).toBe(1);
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
});
