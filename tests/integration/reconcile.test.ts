import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableHtml } from "../support/render-page";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { runReconcile, type SweepReport } from "@/lib/history/reconcile";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { nextRun, runWorker } from "@/lib/composition/run-worker";
import { eventBody } from "../fake-portal/core";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";

// "Nothing lost in silence". Portal 0 takes CRM events online — a lost delivery is never resent — and its sweep
// recovers what the lost events carried; portal 1 takes them from the offline queue, which keeps one row per record
// however often it changed. Either way, a read that may stand for several edits says so.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const ONLINE = 0;
const OFFLINE = 1;

const record = (i: number, id: number) => env.state(i).crm.deal.get(id)!;
// Moves from Bitrix24's stage history (stage-history.ts, queued by the backfill) are not what these tests count.
const changesOf = (i: number, entityId: number) =>
  getDb().fieldChange.findMany({
    where: { portalId: ids[i]!, entityType: "deal", entityId, source: { not: "stagehistory" } },
    orderBy: { id: "asc" },
  });
const advance = (seconds: number) => env.control("clock", { advance: seconds });
const sweep = async (i: number) => (await runReconcile(ids[i]!)) as Record<string, SweepReport | null>;
const settle = async () => {
  while (await processInboxBatch("test", 200));
};
const nameOf = (i: number, userId: number) => {
  const u = env.state(i).users.get(userId)!;
  return `${u.NAME} ${u.LAST_NAME}`;
};

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2, deals: 60 });
  // Without rest_offline_extended the app binds the CRM events online (lib/lifecycle/registry.ts).
  await env.control("features", { code: "rest_offline_extended", value: "N" }, ONLINE);
  for (const i of [ONLINE, OFFLINE]) {
    await env.control("plan", { burst: 500, drain: 100 }, i);
    await env.control("install", { mode: "ui", finish: true }, i);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
    await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
    ids[i] = portal.id;
    expect((await runBackfill(portal.id)).complete).toBe(true);
  }
  expect(env.state(ONLINE).bindings.some((b) => b.event === "ONCRMDEALUPDATE" && !b.offline)).toBe(true);
  await settle();
});
afterAll(() => env.stop());

describe("reconciliation", () => {
  it("recovers edits whose events were lost, once, as 'reconciled', with their editor and time", async () => {
    expect((await sweep(ONLINE)).deal).toMatchObject({ listed: 0, recovered: 0 }); // the first starts at the backfill
    await advance(120);
    await env.control("faults", { dropEvents: 1 }, ONLINE); // every delivery lost, deterministically
    const dropped = env.state(ONLINE).counters.eventsDropped;
    try {
      await env.control("crm/deal/7", { fields: { TITLE: "Lost edit" }, userId: 2 }, ONLINE);
      await advance(30);
      await env.control("crm/deal/8", { fields: { OPPORTUNITY: "777.00" }, userId: 3 }, ONLINE);
      await env.control("crm/deal/new", { fields: { TITLE: "Lost add" }, userId: 2 }, ONLINE);
    } finally {
      await env.control("faults", { dropEvents: 0 }, ONLINE);
    }
    expect(env.state(ONLINE).counters.eventsDropped - dropped).toBe(3);
    const added = env.state(ONLINE).nextId.deal - 1;
    await advance(120); // past the next sweep's overlap: these edits are then behind its watermark

    await env.control("reset-counters", {}, ONLINE);
    const report = await sweep(ONLINE);
    expect(report.deal).toMatchObject({ listed: 3, recovered: 3 });
    // 60 deals, 3 modified since the watermark: one list call (one for each swept type), no batch of pages.
    expect(env.state(ONLINE).counters.rest["crm.item.list"]).toBe(Object.values(report).filter(Boolean).length);
    expect(env.state(ONLINE).log.filter((e) => e.rest === "batch")).toEqual([]);
    const [title] = await changesOf(ONLINE, 7);
    expect(title).toMatchObject({ field: "TITLE", newValue: "Lost edit", source: "reconciled", changedById: 2 });
    expect(title!.changedAt.getTime()).toBe(Date.parse(String(record(ONLINE, 7).DATE_MODIFY)));
    const [amount] = await changesOf(ONLINE, 8);
    expect(amount).toMatchObject({ field: "OPPORTUNITY", newValue: 777, source: "reconciled", changedById: 3 });
    expect(amount!.changedAt.getTime()).toBe(Date.parse(String(record(ONLINE, 8).DATE_MODIFY)));
    expect(await changesOf(ONLINE, added)).toMatchObject([
      { field: RECORD_FIELD, newValue: "created", source: "reconciled" },
    ]);
    // A sweep finds what changed since the snapshot, not how often: the change says so.
    expect(title!.mergedFrom?.getTime()).toBe(Date.parse("2026-01-01T00:00:00Z"));

    // The lost event after all (a late delivery): the snapshot already holds its change, nothing more is recorded.
    const binding = env.state(ONLINE).bindings.find((b) => b.event === "ONCRMDEALUPDATE" && !b.offline)!;
    const body = eventBody(env.fake.fake, env.state(ONLINE), "ONCRMDEALUPDATE", { FIELDS: { ID: "7" } }, 2, binding.id);
    const res = await fetch(binding.handler, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(200);
    await settle();
    const late = { portalId: ids[ONLINE], status: "done" as const, event: "ONCRMDEALUPDATE" };
    expect(await getDb().eventInbox.count({ where: late })).toBe(1);
    expect(await changesOf(ONLINE, 7)).toHaveLength(1);

    // The watermark moved: the next sweep lists only what changed since — deal 9 — and records it once.
    await env.control("faults", { dropEvents: 1 }, ONLINE);
    try {
      await env.control("crm/deal/9", { fields: { COMMENTS: "Lost again" }, userId: 4 }, ONLINE);
    } finally {
      await env.control("faults", { dropEvents: 0 }, ONLINE);
    }
    await advance(120);
    expect((await sweep(ONLINE)).deal).toMatchObject({ listed: 1, recovered: 1 });
    expect((await sweep(ONLINE)).deal).toMatchObject({ listed: 0, recovered: 0 });
    expect(await getDb().fieldChange.count({ where: { portalId: ids[ONLINE], source: "reconciled" } })).toBe(4);
  });

  it("sweeps quotes, invoices and smart processes too: their lost edits and additions are recovered once", async () => {
    await advance(120);
    await env.control("faults", { dropEvents: 1 }, ONLINE);
    let added: { id: number };
    try {
      await env.control("items/128/1", { fields: { title: "Lost item edit" }, userId: 3 }, ONLINE);
      await env.control("items/7/2", { fields: { title: "Lost quote edit" }, userId: 2 }, ONLINE);
      added = (await env.control("items/128/new", { fields: { title: "Lost item add" }, userId: 2 }, ONLINE)) as {
        id: number;
      };
    } finally {
      await env.control("faults", { dropEvents: 0 }, ONLINE);
    }
    await advance(120);
    const report = await sweep(ONLINE);
    expect(report.dynamic_128).toMatchObject({ listed: 2, recovered: 2 });
    expect(report.quote).toMatchObject({ listed: 1, recovered: 1 });
    const of = (entityType: string, entityId: number) =>
      getDb().fieldChange.findMany({
        where: { portalId: ids[ONLINE]!, entityType, entityId, source: "reconciled" },
      });
    expect(await of("dynamic_128", 1)).toMatchObject([{ field: "title", newValue: "Lost item edit", changedById: 3 }]);
    expect(await of("quote", 2)).toMatchObject([{ field: "title", newValue: "Lost quote edit", changedById: 2 }]);
    const newId = Number(added!.id);
    expect(await of("dynamic_128", newId)).toMatchObject([{ field: RECORD_FIELD, newValue: "created" }]);
    const again = await sweep(ONLINE);
    expect([again.dynamic_128?.recovered, again.quote?.recovered]).toEqual([0, 0]);
  });

  it("is scheduled at each portal's own period, and a period of 0 switches it off", async () => {
    await getDb().portal.update({ where: { id: ids[ONLINE] }, data: { reconcileEveryMin: 7 } });
    const before = Date.now();
    const stop = new AbortController();
    const worker = runWorker(stop.signal);
    try {
      const where = { portalId: ids[ONLINE], kind: "history.reconcile" };
      await waitUntil(async () => (await getDb().job.count({ where })) > 0);
    } finally {
      stop.abort();
      await worker;
    }
    const job = await getDb().job.findFirstOrThrow({ where: { portalId: ids[ONLINE], kind: "history.reconcile" } });
    // this period's run or the next, at the portal's own phase of the period (lib/composition/run-worker.ts nextRun)
    const period = 7 * 60_000;
    const keys = [before, Date.now()]
      .map((t) => nextRun(ids[ONLINE]!, period, t).due)
      .flatMap((due) => [due - 1, due])
      .map((due) => `history.reconcile:${ids[ONLINE]}:${due}`);
    expect(keys).toContain(job.dedupeKey);
    // the next run at the portal's phase; this period's, due when it was queued
    const queuedAt = job.createdAt.getTime();
    const atPhase = (job.runAt.getTime() - nextRun(ids[ONLINE]!, period, before).runAt.getTime()) % period === 0;
    expect(atPhase || Math.abs(job.runAt.getTime() - queuedAt) < 1000).toBe(true);
    await getDb().portal.update({ where: { id: ids[ONLINE] }, data: { reconcileEveryMin: 0 } });
    expect(await runReconcile(ids[ONLINE]!)).toBe("skipped");
  });
});

describe("merged edits", () => {
  it("two edits by two users collapsed in the offline queue: one change, its interval and last editor", async () => {
    await env.control("crm/deal/5", { fields: { TITLE: "First, alone" }, userId: 2 }, OFFLINE);
    await drainOffline(ids[OFFLINE]!);
    await settle();
    const first = String(record(OFFLINE, 5).DATE_MODIFY);
    await advance(19 * 60);
    await env.control("crm/deal/5", { fields: { TITLE: "Second" }, userId: 2 }, OFFLINE);
    await advance(20 * 60);
    await env.control("crm/deal/5", { fields: { TITLE: "Third", OPPORTUNITY: "10.00" }, userId: 3 }, OFFLINE);
    expect(env.state(OFFLINE).offline.filter((x) => x.EVENT_NAME === "ONCRMDEALUPDATE")).toHaveLength(1); // one row
    await drainOffline(ids[OFFLINE]!);
    await settle();

    const page = await queryHistory(ids[OFFLINE]!, { entityType: "deal", entityId: 5 });
    const now = Date.parse(String(record(OFFLINE, 5).DATE_MODIFY));
    const latest = page.items.filter((c) => c.changedAt.getTime() === now);
    expect(latest.map((c) => [c.field, c.changedById]).sort()).toEqual([
      ["OPPORTUNITY", 3],
      ["TITLE", 3],
    ]);
    expect(latest.every((c) => c.mergedFrom?.getTime() === Date.parse(first))).toBe(true);
    const rows = await presentChanges(ids[OFFLINE]!, "deal", latest, "en", "Europe/Moscow");
    const title = rows.find((r) => r.fieldCode === "TITLE")!;
    expect(title).toMatchObject({ oldValue: "First, alone", newValue: "Third", who: nameOf(OFFLINE, 3) });
    expect(title.mergedFromIso).toBe(new Date(first).toISOString());
    const table = await tableHtml(rows, "en", false);
    const said = `changed between ${title.mergedFrom} and ${title.changedAt}; last edited by ${nameOf(OFFLINE, 3)}`;
    expect(table).toContain(said);
    const ru = await presentChanges(ids[OFFLINE]!, "deal", latest, "ru", "Europe/Moscow");
    const russian = `изменено между ${ru[0]!.mergedFrom} и ${ru[0]!.changedAt}`;
    expect(await tableHtml(ru, "ru", false)).toContain(russian);
  });

  it("one online event for one edit is one edit; two events settled by one read are merged", async () => {
    await getDb().portal.update({ where: { id: ids[ONLINE] }, data: { reconcileEveryMin: 15 } });
    const pending = { portalId: ids[ONLINE], status: "pending" as const };
    const inbox = (n: number) => async () => (await getDb().eventInbox.count({ where: pending })) === n;
    await env.control("crm/deal/20", { fields: { TITLE: "One edit" }, userId: 2 }, ONLINE);
    await waitUntil(inbox(1));
    await settle();
    expect(await changesOf(ONLINE, 20)).toMatchObject([{ field: "TITLE", source: "event", mergedFrom: null }]);

    const before = Date.parse(String(record(ONLINE, 20).DATE_MODIFY));
    await advance(60);
    await env.control("crm/deal/20", { fields: { TITLE: "Edit one of two" }, userId: 2 }, ONLINE);
    await advance(60);
    await env.control("crm/deal/20", { fields: { TITLE: "Edit two of two" }, userId: 3 }, ONLINE);
    await waitUntil(inbox(2));
    await settle();
    const [, merged] = await changesOf(ONLINE, 20);
    expect(merged).toMatchObject({ newValue: "Edit two of two", changedById: 3, source: "event" });
    expect(merged!.mergedFrom?.getTime()).toBe(before);
  });
});
