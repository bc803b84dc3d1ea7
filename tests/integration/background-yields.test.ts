// Fair background work (issue #15 item 5): one portal's million-record backfill must not slow every portal's capture.
// Lanes in processes of their own still share the database and, on a small machine, the cores — the fairness bench
// measured capture 0.3 s → 171 s behind while a 1 000 000-contact backfill ran in the other process (docs/
// performance.md). So a backfill or a sweep run by a worker's background lane waits between its steps while capture
// work — a runnable offline drain, an inbox row — has waited over CAPTURE_BEHIND_MS, and still takes a step at least
// every BACKGROUND_MIN_STEP_MS.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { CAPTURE_BEHIND_MS, captureIsBehind, enqueueJob } from "@/lib/jobs/queue";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  portalId = (await installPortal(env)).id;
});
afterAll(() => env.stop());
beforeEach(async () => {
  await getDb().job.deleteMany({ where: { portalId } });
  await getDb().eventInbox.deleteMany({ where: { portalId } });
  await getDb().backfillRun.updateMany({ where: { portalId }, data: { status: "pending", lastId: 0, processed: 0 } });
});

const longAgo = () => new Date(Date.now() - CAPTURE_BEHIND_MS - 5_000);

describe("capture is behind", () => {
  it("when a capture-lane job or an inbox row has waited past the threshold, not before, and not for background jobs", async () => {
    expect(await captureIsBehind()).toBe(false);
    await enqueueJob("history.reconcile", { portalId, runAt: longAgo() }); // background work waiting is not capture's
    await enqueueJob("offline.drain", { portalId }); // due just now: not behind yet
    expect(await captureIsBehind()).toBe(false);
    await getDb().job.updateMany({ where: { portalId, kind: "offline.drain" }, data: { runAt: longAgo() } });
    expect(await captureIsBehind()).toBe(true);
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
    await getDb().eventInbox.create({
      data: { portalId, event: "ONCRMDEALUPDATE", idempotencyKey: "k1", payload: {}, nextAttemptAt: longAgo() },
    });
    expect(await captureIsBehind()).toBe(true);
  });
});

describe("a worker's backfill yields to capture", () => {
  it("takes no step within its slice while a drain waits, and steps again once capture has caught up", async () => {
    await enqueueJob("offline.drain", { portalId, runAt: longAgo() });
    // a slice shorter than BACKGROUND_MIN_STEP_MS: all of it is given to capture
    const yielded = await runBackfill(portalId, 2_000, undefined, { yieldToCapture: true });
    expect(yielded).toMatchObject({ records: 0, complete: false });
    // a backfill driven by hand (tests, benches: no capture lane runs) does not wait for it
    expect((await runBackfill(portalId, 2_000)).records).toBeGreaterThan(0);

    await getDb().job.updateMany({ where: { portalId, kind: "offline.drain" }, data: { status: "done" } });
    await getDb().backfillRun.updateMany({ where: { portalId }, data: { status: "pending", lastId: 0, processed: 0 } });
    expect((await runBackfill(portalId, 2_000, undefined, { yieldToCapture: true })).records).toBeGreaterThan(0);
  });
});
