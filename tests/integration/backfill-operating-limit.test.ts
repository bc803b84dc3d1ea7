// A big portal's backfill reaches Bitrix24's operating-time limit: product rows are one crm.item.productrow.list
// command per owner, and a method over its time is blocked for the rest of a 10-minute window — inside a batch as
// that command's error (docs/bitrix24.md#rate-limits). The backfill must wait it out, not fail: a failed job is
// retried 5 times over about 5 minutes and then given up, which left the history of a large portal unfinished.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { OPERATING_RETRY_MS, runBackfill } from "@/lib/history/backfill";
import { PRODUCTS_FIELD } from "@/lib/history/diff";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(0).memberId } })).id;
});
afterAll(() => env.stop());

describe("a backfill that meets OPERATION_TIME_LIMIT", () => {
  it("waits with its next slice queued a minute on, then finishes with every deal's rows", async () => {
    await env.control("faults", { methodErrors: { "crm.item.productrow.list": "OPERATION_TIME_LIMIT" } });
    const before = Date.now();
    const blocked = await runBackfill(portalId);
    expect(blocked.complete).toBe(false);
    expect(blocked.retryAt!.getTime()).toBeGreaterThanOrEqual(before + OPERATING_RETRY_MS);
    const queued = await getDb().job.findMany({ where: { portalId, kind: "history.backfill", status: "pending" } });
    expect(queued.some((j) => j.runAt.getTime() >= before + OPERATING_RETRY_MS)).toBe(true);
    const deals = await getDb().backfillRun.findUniqueOrThrow({
      where: { portalId_entityType: { portalId, entityType: "deal" } },
    });
    expect(deals.status).not.toBe("done"); // the page whose rows could not be read is read again, not skipped

    await env.control("faults", { methodErrors: {} }); // the window has passed
    for (let i = 0; i < 50 && !(await runBackfill(portalId)).complete; i++);
    const rows = env.state(0).items.productRows.filter((r) => r.ownerType === "D");
    const owners = [...new Set(rows.map((r) => r.ownerId))];
    expect(owners.length).toBeGreaterThan(0);
    for (const dealId of owners) {
      const snap = await getDb().crmSnapshot.findUniqueOrThrow({
        where: { portalId_entityType_entityId: { portalId, entityType: "deal", entityId: dealId } },
      });
      const kept = (snap.fields as Record<string, unknown>)[PRODUCTS_FIELD] as { id: number }[];
      expect(kept.map((r) => r.id).sort()).toEqual(
        rows
          .filter((r) => r.ownerId === dealId)
          .map((r) => r.id)
          .sort(),
      );
    }
  });
});
