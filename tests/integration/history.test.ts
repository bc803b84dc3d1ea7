import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill, runBackfillStep } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake({ deals: 3000 });
  await env.control("plan", { burst: 500, drain: 100 });
  portalId = (await installPortal(env)).id;
  await getDb().portal.update({ where: { id: portalId }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
});
afterAll(() => env.stop());

describe("backfill", () => {
  it("snapshots every record with batched list commands and resumes after a crash without duplicates or gaps", async () => {
    const first = await runBackfillStep(portalId, "deal");
    expect(first).toEqual({ done: false, records: 2500 }); // 50 lists × 50 records in one request
    // A list command that fails inside a successful batch is not "the end of the list": the step fails, the cursor
    // stays, the entity is not marked done (it used to be, and the remaining 500 deals never got a baseline).
    await env.control("faults", { methodErrors: { "crm.item.list": "INTERNAL_SERVER_ERROR" } });
    try {
      await expect(runBackfillStep(portalId, "deal")).rejects.toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
    } finally {
      await env.control("faults", { methodErrors: {} });
    }
    expect(
      await getDb().backfillRun.findUniqueOrThrow({ where: { portalId_entityType: { portalId, entityType: "deal" } } }),
    ).toMatchObject({ lastId: 2500, status: "running" });
    // The worker dies after fetching the next range but before committing it: the cursor must not move.
    const spy = vi.spyOn(getDb(), "$transaction").mockRejectedValueOnce(new Error("killed"));
    await expect(runBackfillStep(portalId, "deal")).rejects.toThrow("killed");
    spy.mockRestore();
    expect(
      (
        await getDb().backfillRun.findUniqueOrThrow({
          where: { portalId_entityType: { portalId, entityType: "deal" } },
        })
      ).lastId,
    ).toBe(2500);
    const report = await runBackfill(portalId);
    expect(report.complete).toBe(true);
    expect(await getDb().crmSnapshot.count({ where: { portalId, entityType: "deal" } })).toBe(3000);
    const run = await getDb().backfillRun.findUniqueOrThrow({
      where: { portalId_entityType: { portalId, entityType: "deal" } },
    });
    expect(run).toMatchObject({ status: "done", processed: 3000, total: 3000, lastId: 3000 });
    // The killed page's first snapshots were already in (written before its transaction): the retry diffs against
    // them and invents no change.
    expect(await getDb().fieldChange.count({ where: { portalId, source: "backfill" } })).toBe(0);
  });
});

describe("live capture", () => {
  it("turns a field edited in the portal into a change: who, when, label, old → new", async () => {
    const current = env.state().crm.deal.get(42)!;
    const source = current.UF_CRM_SOURCE === "42" ? "43" : "42";
    await env.control("crm/deal/42", {
      fields: { TITLE: "Renamed deal", UF_CRM_SOURCE: source, OPPORTUNITY: "999.00", UF_CRM_TAGS: ["x", "y"] },
      userId: 2,
    });
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

  it("fetches a burst of edits to 30 records in one batched request", async () => {
    for (let id = 100; id < 130; id++)
      await env.control(`crm/deal/${id}`, { fields: { COMMENTS: `burst ${id}` }, userId: 3 });
    await drainOffline(portalId);
    await env.control("reset-counters");
    await processInboxBatch("test");
    const requests = (env.state().log as { rest?: string }[]).map((e) => e.rest).filter(Boolean);
    // one request for the records, one for their product rows (one command per deal: no IN over owners,
    // crm-item-productrow-list.md); the new user's name once
    expect(requests).toEqual(["batch", "batch", "user.get"]);
    // 30 ids in one @ID command
    expect(env.state().counters.rest).toEqual({ "crm.item.list": 1, "crm.item.productrow.list": 30, "user.get": 1 });
    expect(
      await getDb().fieldChange.count({
        where: { portalId, entityType: "deal", entityId: { gte: 100, lt: 130 }, field: "COMMENTS", changedById: 3 },
      }),
    ).toBe(30);
    expect(await getDb().eventInbox.count({ where: { portalId, status: { not: "done" } } })).toBe(0);
  });

  it("stores no change before its author's name is known: a failing user.get defers the capture, the retry shows the name", async () => {
    await env.control("faults", { methodErrors: { "user.get": "INTERNAL_SERVER_ERROR" } });
    await env.control("crm/deal/200", { fields: { COMMENTS: "by a new user" }, userId: 4 });
    await drainOffline(portalId);
    await processInboxBatch("test");
    const where = { portalId, entityType: "deal", entityId: 200, field: "COMMENTS" };
    expect(await getDb().fieldChange.count({ where })).toBe(0); // not shown as "#4" in the meantime
    await env.control("faults", { methodErrors: {} });
    await getDb().eventInbox.updateMany({
      where: { portalId, status: { not: "done" } },
      data: { nextAttemptAt: new Date(0) },
    });
    while (await processInboxBatch("test"));
    const rows = await presentChanges(
      portalId,
      "deal",
      (await queryHistory(portalId, { entityType: "deal", entityId: 200, field: "COMMENTS" })).items,
      "en",
    );
    expect(rows).toMatchObject([{ newValue: "by a new user", who: "Dmitry Support" }]);
  });

  it("keeps a contact's multiple fields in the baseline: a name edit is one change, a phone edit is recorded", async () => {
    await env.control("crm/contact/3", { fields: { NAME: "Renamed" }, userId: 1 });
    await drainOffline(portalId);
    while (await processInboxBatch("test"));
    expect((await queryHistory(portalId, { entityType: "contact", entityId: 3 })).items.map((c) => c.field)).toEqual([
      "NAME",
    ]);
    await env.control("crm/contact/3", { fields: { PHONE: [{ VALUE_TYPE: "WORK", VALUE: "+4930999" }] }, userId: 1 });
    await drainOffline(portalId);
    while (await processInboxBatch("test"));
    const phone = (await queryHistory(portalId, { entityType: "contact", entityId: 3, field: "PHONE" })).items;
    expect(phone).toHaveLength(1);
    // an item without ID is added to the contact's phones (crm-contact-update.md); items are stored with type and ID
    expect(phone[0]!.newValue).toContainEqual(expect.objectContaining({ VALUE_TYPE: "WORK", VALUE: "+4930999" }));
  });

  it("records a created and a deleted record once each, even when the delete is processed twice", async () => {
    const added = (await env.control("crm/deal/new", { fields: { TITLE: "Brand new" }, userId: 2 })) as { id?: number };
    const id = Number(added.id);
    expect(id).toBeGreaterThan(0);
    await drainOffline(portalId);
    while (await processInboxBatch("test"));
    const { recordDeletion } = await import("@/lib/history/capture");
    await recordDeletion({ portalId, entityType: "deal", entityId: id, receivedAt: new Date() });
    await recordDeletion({ portalId, entityType: "deal", entityId: id, receivedAt: new Date() }); // a crash before the inbox row settled
    const fields = (await queryHistory(portalId, { entityType: "deal", entityId: id })).items.map((c) => [
      c.field,
      c.newValue,
    ]);
    expect(fields).toEqual([
      ["__record__", "deleted"],
      ["__record__", "created"],
    ]);
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
    expect(
      (await queryHistory(portalId, { entityType: "deal", entityId: 43, userId: 2 })).items.every(
        (c) => c.changedById === 2,
      ),
    ).toBe(true);
    expect((await queryHistory(portalId, { entityType: "deal", entityId: 43, field: "COMMENTS" })).items).toEqual([]);
  });
});

describe("a binding that vanished", () => {
  it("is repaired by Rebind, and the next backfill pass records what changed in the gap — once, by its author", async () => {
    const { rebindPortal } = await import("@/lib/lifecycle/diagnostics");
    await env.control("bindings/delete", { event: "ONCRMDEALUPDATE" }); // the event now goes nowhere
    await env.control("crm/deal/60", { fields: { TITLE: "Edited in the gap" }, userId: 4 });
    expect(env.state().offline.filter((e) => e.EVENT_NAME === "ONCRMDEALUPDATE")).toHaveLength(0); // Bitrix24 kept nothing
    const report = await rebindPortal(portalId);
    expect(report.bound).toContain("offline:ONCRMDEALUPDATE");
    expect(
      (await getDb().backfillRun.findMany({ where: { portalId } })).every(
        (r) => r.status === "pending" && r.lastId === 0,
      ),
    ).toBe(true);
    while (!(await runBackfill(portalId)).complete);
    const changes = await getDb().fieldChange.findMany({ where: { portalId, source: "backfill" } });
    expect(changes.map((c) => [c.entityType, c.entityId, c.field, c.newValue, c.changedById])).toEqual([
      ["deal", 60, "TITLE", "Edited in the gap", 4],
    ]);
    await runBackfill(portalId); // done: a finished pass does nothing more
    expect(await getDb().fieldChange.count({ where: { portalId, source: "backfill" } })).toBe(1);
  });
});
