import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill, runBackfillStep } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake({ deals: 3000 });
  await env.control("plan", { burst: 500, drain: 100 });
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
  await getDb().portal.update({ where: { id: portalId }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
});
afterAll(() => env.stop());

describe("backfill", () => {
  it("snapshots every record with batched list commands and resumes after a crash without duplicates or gaps", async () => {
    const first = await runBackfillStep(portalId, "deal");
    expect(first).toEqual({ done: false, records: 2500 }); // 50 lists × 50 records in one request
    // The worker dies after fetching the next range but before committing it: the cursor must not move.
    const spy = vi.spyOn(getDb(), "$transaction").mockRejectedValueOnce(new Error("killed"));
    await expect(runBackfillStep(portalId, "deal")).rejects.toThrow("killed");
    spy.mockRestore();
    expect((await getDb().backfillRun.findUniqueOrThrow({ where: { portalId_entityType: { portalId, entityType: "deal" } } })).lastId).toBe(2500);
    const report = await runBackfill(portalId);
    expect(report.complete).toBe(true);
    expect(await getDb().crmSnapshot.count({ where: { portalId, entityType: "deal" } })).toBe(3000);
    const run = await getDb().backfillRun.findUniqueOrThrow({ where: { portalId_entityType: { portalId, entityType: "deal" } } });
    expect(run).toMatchObject({ status: "done", processed: 3000, total: 3000, lastId: 3000 });
  });
});

describe("live capture", () => {
  it("turns a field edited in the portal into a change: who, when, label, old → new", async () => {
    const current = env.state().crm.deal.get(42)!;
    const source = current.UF_CRM_SOURCE === "42" ? "43" : "42";
    await env.control("crm/deal/42", { fields: { TITLE: "Renamed deal", UF_CRM_SOURCE: source, OPPORTUNITY: "999.00", UF_CRM_TAGS: ["x", "y"] }, userId: 2 });
    await drainOffline(portalId);
    while (await processInboxBatch("test", 50));
    const page = await queryHistory(portalId, { entityType: "deal", entityId: 42 });
    expect(page.items.map((c) => c.field).sort()).toEqual(["OPPORTUNITY", "TITLE", "UF_CRM_SOURCE", "UF_CRM_TAGS"]);
    expect(page.items.every((c) => c.changedById === 2)).toBe(true);
    const rows = await presentChanges(portalId, "deal", page.items, "en");
    const channel = rows.find((r) => r.field === "Lead channel")!; // the portal's label of a UF_* enumeration
    expect(channel.newValue).toBe(source === "42" ? "Partner" : "Fair"); // shown by label, stored by id
    expect(rows.find((r) => r.field === "Name")).toMatchObject({ newValue: "Renamed deal", who: "Boris Manager" });
  });

  it("keyset-paginates and filters by field and by user", async () => {
    for (let i = 0; i < 3; i++) {
      // drained after each edit: the offline queue keeps only the latest state of a record between drains
      await env.control("crm/deal/43", { fields: { TITLE: `t${i}` }, userId: 1 + (i % 2) });
      await drainOffline(portalId);
      while (await processInboxBatch("test", 50));
    }
    const first = await queryHistory(portalId, { entityType: "deal", entityId: 43, limit: 1 });
    const second = await queryHistory(portalId, { entityType: "deal", entityId: 43, limit: 1, cursor: first.next! });
    expect(first.items[0]!.id).not.toBe(second.items[0]!.id);
    expect((await queryHistory(portalId, { entityType: "deal", entityId: 43, userId: 2 })).items.every((c) => c.changedById === 2)).toBe(true);
    expect((await queryHistory(portalId, { entityType: "deal", entityId: 43, field: "COMMENTS" })).items).toEqual([]);
  });
});
