import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalSession } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { buildHistoryCsv } from "@/lib/history/export";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { HistoryViewQuerySchema, loadHistoryView } from "@/lib/history/view";
import { startAppWithFake } from "../support/lifecycle-env";

// Values as a real portal gives them: stage, status and funnel codes named by crm.status.list / crm.category.list in
// the portal's language (an English portal and a Russian one), dates with the portal's UTC offset (the fake's
// portals sit at +03:00), shown in the user's time zone.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];

async function capture(i: number) {
  await drainOffline(ids[i]!);
  while (await processInboxBatch("test", 50));
}
const edit = async (i: number, entity: string, id: number, fields: Record<string, unknown>) => {
  await env.control(`crm/${entity}/${id}`, { fields, userId: 2 }, i);
  await capture(i);
};
async function rows(i: number, entity: string, id: number, field: string, tz?: string) {
  const changes = (await queryHistory(ids[i]!, { entityType: entity, entityId: id, field })).items;
  return presentChanges(ids[i]!, entity, changes, i === 1 ? "ru" : "en", tz);
}
const restCount = (i: number, method: string) => env.state(i).counters.rest[method] ?? 0;

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2, deals: 30 });
  env.state(1).lang = "ru";
  for (const i of [0, 1]) {
    // Known starting points, set before the install (no events): funnel 0 and funnel 1 deals, a lead.
    Object.assign(env.state(i).crm.deal.get(3)!, { CATEGORY_ID: "0", STAGE_ID: "NEW" });
    Object.assign(env.state(i).crm.deal.get(10)!, { CATEGORY_ID: "1", STAGE_ID: "C1:NEW" });
    Object.assign(env.state(i).crm.lead.get(2)!, { STATUS_ID: "NEW" });
    await env.control("plan", { burst: 500, drain: 100 }, i);
    await env.control("install", { mode: "ui", finish: true }, i);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
    await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
    ids[i] = portal.id;
    expect((await runBackfill(portal.id)).complete).toBe(true);
  }
});
afterAll(() => env.stop());

describe("stage and status names", () => {
  it("are the portal's names, not codes: New → Won in both funnels, lead statuses", async () => {
    expect((await env.control("state", {}, 0, "GET")).clock).toMatch(/\+03:00$/);
    await edit(0, "deal", 3, { STAGE_ID: "WON" });
    await edit(0, "deal", 10, { STAGE_ID: "C1:WON" });
    await edit(0, "lead", 2, { STATUS_ID: "IN_PROCESS" });
    expect(await rows(0, "deal", 3, "STAGE_ID")).toMatchObject([{ field: "Stage", oldValue: "New", newValue: "Won" }]);
    expect(await rows(0, "deal", 10, "STAGE_ID")).toMatchObject([{ oldValue: "New", newValue: "Won" }]);
    expect(await rows(0, "lead", 2, "STATUS_ID")).toMatchObject([
      { field: "Status", oldValue: "Unassigned", newValue: "In progress" },
    ]);
  });

  it("come in Russian from a Russian portal, field titles and funnel names included", async () => {
    await edit(1, "deal", 3, { STAGE_ID: "WON" });
    await edit(1, "deal", 3, { CATEGORY_ID: "1", STAGE_ID: "C1:PREPARATION" });
    const stages = await rows(1, "deal", 3, "STAGE_ID");
    expect(stages.map((r) => [r.field, r.oldValue, r.newValue])).toEqual([
      ["Стадия сделки", "Успешно", "Переговоры"],
      ["Стадия сделки", "Новая", "Успешно"],
    ]);
    expect(await rows(1, "deal", 3, "CATEGORY_ID")).toMatchObject([
      { field: "Воронка", oldValue: "Общая", newValue: "Опт" },
    ]);
    const channel = env.state(1).crm.deal.get(4)!.UF_CRM_SOURCE === "42" ? "43" : "42";
    await edit(1, "deal", 4, { UF_CRM_SOURCE: channel });
    expect(await rows(1, "deal", 4, "UF_CRM_SOURCE")).toMatchObject([
      { field: "Канал лида", newValue: channel === "42" ? "Партнёр" : "Выставка" },
    ]);
  });

  it("are read again once when a stage appears that the cached names lack (an admin added it), not on every page", async () => {
    const hook = env.state(0).webhook;
    const added = await fetch(`${env.portal(0).baseUrl}/rest/${hook.userId}/${hook.secret}/crm.status.add`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fields: { ENTITY_ID: "DEAL_STAGE", STATUS_ID: "REVIEW", NAME: "Legal review" } }),
    });
    expect(added.status).toBe(200);
    await edit(0, "deal", 3, { STAGE_ID: "REVIEW" });
    const before = restCount(0, "crm.status.list");
    expect((await rows(0, "deal", 3, "STAGE_ID"))[0]).toMatchObject({ oldValue: "Won", newValue: "Legal review" });
    expect(restCount(0, "crm.status.list")).toBe(before + 1);
    await rows(0, "deal", 3, "STAGE_ID");
    expect(restCount(0, "crm.status.list")).toBe(before + 1); // the names now know it: no second read
  });
});

describe("time zones", () => {
  it("stores the instant a +03:00 portal wrote, and shows it in the user's zone (page and CSV)", async () => {
    await edit(0, "deal", 5, { COMMENTS: "when?" });
    const record = env.state(0).crm.deal.get(5)!;
    expect(String(record.DATE_MODIFY)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
    const [change] = (await queryHistory(ids[0]!, { entityType: "deal", entityId: 5, field: "COMMENTS" })).items;
    expect(change!.changedAt.getTime()).toBe(Date.parse(String(record.DATE_MODIFY)));
    // Pin the instant to compare clock faces: 07:02 UTC is 16:02 in Tokyo, 02:02 in New York, 10:02 in Moscow.
    await getDb().fieldChange.update({
      where: { id: change!.id },
      data: { changedAt: new Date("2026-11-30T10:02:00+03:00") },
    });
    expect((await rows(0, "deal", 5, "COMMENTS", "Asia/Tokyo"))[0]!.changedAt).toBe("30/11/2026, 16:02:00");
    expect((await rows(0, "deal", 5, "COMMENTS", "America/New_York"))[0]!.changedAt).toBe("30/11/2026, 02:02:00");
    expect((await rows(0, "deal", 5, "COMMENTS"))[0]!.changedAt).toBe("30/11/2026, 07:02:00 UTC"); // no zone: UTC, said so
    const session = { portalId: ids[1]!, lang: "ru" } as PortalSession;
    await edit(1, "deal", 5, { COMMENTS: "когда?" });
    const ru = (await queryHistory(ids[1]!, { entityType: "deal", entityId: 5, field: "COMMENTS" })).items[0]!;
    await getDb().fieldChange.update({
      where: { id: ru.id },
      data: { changedAt: new Date("2026-11-30T10:02:00+03:00") },
    });
    const view = await loadHistoryView(
      session,
      HistoryViewQuerySchema.parse({ entity: "deal", id: 5, field: "COMMENTS", tz: "Europe/Moscow" }),
    );
    expect(view.rows[0]!.changedAt).toBe("30.11.2026, 10:02:00");
    const csv = new TextDecoder().decode((await buildHistoryCsv(ids[0]!, "deal", 5, "en", "Asia/Tokyo")).content);
    expect(csv).toContain(`"30/11/2026, 16:02:00"`);
  });

  it("refuses a time zone that is not one", () => {
    expect(HistoryViewQuerySchema.safeParse({ entity: "deal", id: 5, tz: "Mars/Olympus" }).success).toBe(false);
  });

  it("keeps the newer state when an older one arrives written in another offset", async () => {
    const before = env.state(0).crm.deal.get(6)!;
    env.fake.fake.clock.utcOffsetMinutes = 120; // the same instants, now written as +02:00
    try {
      await edit(0, "deal", 6, { TITLE: "newer" });
      expect(String(env.state(0).crm.deal.get(6)!.DATE_MODIFY)).toMatch(/\+02:00$/);
      // A stale read of the record (its state from before the edit, stamped +03:00, an earlier instant) must not
      // become the baseline: compared as text, "…T10:00:00+03:00" sorts after "…T09:30:00+02:00".
      const { applySnapshots } = await import("@/lib/history/snapshots");
      const { getFieldMeta } = await import("@/lib/history/fields");
      const { bitrixFor } = await import("@/lib/bitrix");
      const meta = await getFieldMeta(ids[0]!, "deal", await bitrixFor(ids[0]!));
      await applySnapshots(ids[0]!, "deal", [before], meta, { source: "event", readAt: new Date() });
      const snapshot = await getDb().crmSnapshot.findUniqueOrThrow({
        where: { portalId_entityType_entityId: { portalId: ids[0]!, entityType: "deal", entityId: 6 } },
      });
      expect((snapshot.fields as Record<string, unknown>).TITLE).toBe("newer");
    } finally {
      env.fake.fake.clock.utcOffsetMinutes = 180;
    }
  });
});
