// Funnel moves (issue #14): a deal moved to another funnel raises only ONCRMDEALMOVETOCATEGORY, never
// ONCRMDEALUPDATE (b24restdocs crm/deals/events/index.md). The app binds it, online and offline, and records the
// move as changes of CATEGORY_ID and STAGE_ID.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = []; // portal #0: offline queue (rest_offline_extended), portal #1: online events
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  await env.control("features", { code: "rest_offline_extended", value: "N" }, 1);
  for (const i of [0, 1]) {
    await env.control("install", { mode: "ui", finish: true }, i);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
    ids.push(portal.id);
    await runBackfill(portal.id); // the baseline a move is diffed against
  }
});
afterAll(() => env.stop());

async function movesOf(portalId: string, dealId: number) {
  const page = await queryHistory(portalId, { entityType: "deal", entityId: dealId });
  const byField = Object.fromEntries(page.items.map((c) => [c.field, [c.oldValue, c.newValue]]));
  return { byField, rows: await presentChanges(portalId, "deal", page.items, "en") };
}

/** Portal #0's offline queue rows of one deal. */
const queuedFor = (dealId: number) =>
  env.state(0).offline.filter((x) => (x.EVENT_DATA as { FIELDS?: { ID?: string } }).FIELDS?.ID === String(dealId));

describe("a deal moved to another funnel", () => {
  it("is bound offline and online: ONCRMDEALMOVETOCATEGORY is among the portal's bindings", () => {
    const bound = (i: number) => env.state(i).bindings.filter((b) => b.event === "ONCRMDEALMOVETOCATEGORY");
    expect(bound(0).map((b) => b.offline)).toEqual([true]);
    expect(bound(1).map((b) => b.offline)).toEqual([false]);
  });

  it("offline: queued as ONCRMDEALMOVETOCATEGORY with the new funnel and stage, recorded as both fields", async () => {
    const deal = env.state(0).crm.deal.get(7)!;
    expect(deal.CATEGORY_ID).toBe("0");
    const stage = String(deal.STAGE_ID);
    await env.control("crm/deal/7", { fields: { CATEGORY_ID: "1" }, userId: 2 }, 0);
    // The fake, as Bitrix24: no ONCRMDEALUPDATE, the move event with the deal's new funnel and its first stage there.
    const queued = queuedFor(7);
    expect(queued.map((x) => [x.EVENT_NAME, x.EVENT_DATA])).toEqual([
      ["ONCRMDEALMOVETOCATEGORY", { FIELDS: { ID: "7", CATEGORY_ID: "1", STAGE_ID: "C1:NEW" } }],
    ]);
    await drainOffline(ids[0]!);
    while (await processInboxBatch("test", 50));
    const { byField, rows } = await movesOf(ids[0]!, 7);
    expect(byField).toEqual({ CATEGORY_ID: ["0", "1"], STAGE_ID: [stage, "C1:NEW"] });
    const funnel = rows.find((r) => r.fieldCode === "CATEGORY_ID");
    expect(funnel).toMatchObject({ oldValue: "General", newValue: "Wholesale", who: "Boris Manager" });
    // CATEGORY_ID is immutable for crm.deal.update (crm-deal-fields.md): no revert is offered, and none is written.
    expect(funnel?.revertible).toBe(false);
    const { revertChange } = await import("@/lib/history/revert");
    const change = (await queryHistory(ids[0]!, { entityType: "deal", entityId: 7, field: "CATEGORY_ID" })).items[0]!;
    await expect(revertChange(ids[0]!, change.id, { userId: 1 })).rejects.toMatchObject({
      status: 400,
      code: "not_revertible",
    });
  });

  it("online: delivered as ONCRMDEALMOVETOCATEGORY only, recorded as CATEGORY_ID and STAGE_ID", async () => {
    const stage = String(env.state(1).crm.deal.get(8)!.STAGE_ID);
    const delivered = env.state(1).counters.eventsDelivered;
    await env.control("crm/deal/8", { fields: { CATEGORY_ID: "1", STAGE_ID: "C1:PREPARATION" }, userId: 3 }, 1);
    expect(env.state(1).counters.eventsDelivered - delivered).toBe(1); // one event for the move, no update besides
    const portalId = ids[1]!;
    const arrived = { portalId, event: "ONCRMDEALMOVETOCATEGORY" };
    await waitUntil(async () => (await getDb().eventInbox.count({ where: arrived })) === 1);
    const row = await getDb().eventInbox.findFirstOrThrow({ where: arrived });
    const data = (row.payload as { data?: unknown }).data;
    expect(data).toEqual({ FIELDS: { ID: "8", CATEGORY_ID: "1", STAGE_ID: "C1:PREPARATION" } });
    while (await processInboxBatch("test", 50));
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: "done" });
    const { byField } = await movesOf(portalId, 8);
    expect(byField).toEqual({ CATEGORY_ID: ["0", "1"], STAGE_ID: [stage, "C1:PREPARATION"] });
  });

  it("a stage change within the funnel stays an ordinary update", async () => {
    await env.control("crm/deal/9", { fields: { STAGE_ID: "WON" }, userId: 2 }, 0);
    const queued = queuedFor(9);
    expect(queued.map((x) => x.EVENT_NAME)).toEqual(["ONCRMDEALUPDATE"]);
  });
});
