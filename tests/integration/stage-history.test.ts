// Stage moves from before the install (issue #14): Bitrix24 keeps them in crm.stagehistory.list
// (b24restdocs crm/crm-stage-history-list.md; the fake seeds each deal and lead with its creation on 2025-12-01 and,
// where its stage is not the first, a move on 2025-12-15). After the first backfill pass the app records those moves
// once, with their times and source "stagehistory", and never a second time what it captured itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { runStageHistory, STAGE_HISTORY_JOB, type StageHistoryPayload } from "@/lib/history/stage-history";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  // The fake's leads never left NEW: two moves of lead 2 made before the app is installed.
  await env.control("crm/lead/2", { fields: { STATUS_ID: "IN_PROCESS" }, userId: 2 });
  await env.control("crm/lead/2", { fields: { STATUS_ID: "JUNK" }, userId: 2 });
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
});
afterAll(() => env.stop());

const jobs = () => getDb().job.findMany({ where: { portalId, kind: STAGE_HISTORY_JOB }, orderBy: { id: "asc" } });
const fromHistory = (entityType: string) =>
  getDb().fieldChange.findMany({ where: { portalId, entityType, source: "stagehistory" }, orderBy: { id: "asc" } });
/** The stage-history rows the fake holds for one type (entityTypeId 1 leads, 2 deals). */
const seeded = (entityTypeId: number) => env.state(0).items.stageHistory.filter((r) => r.entityTypeId === entityTypeId);
async function runJobs(change: (p: StageHistoryPayload) => StageHistoryPayload = (p) => p) {
  let recorded = 0;
  for (const job of await jobs()) {
    recorded += (await runStageHistory(portalId, change(job.payload as unknown as StageHistoryPayload))).recorded;
  }
  return recorded;
}

let moved: { id: number; stage: string; at: Date };

describe("stage history from before the install", () => {
  it("is queued once per type when the first backfill pass completes", async () => {
    // quotes have no stage history (crm-stage-history-list.md): no job for them
    const types = ["lead", "deal", "smart_invoice", "dynamic_128"];
    expect((await jobs()).map((j) => (j.payload as { entityType: string }).entityType).sort()).toEqual(types.sort());
    await runBackfill(portalId); // a later pass queues nothing more
    expect(await jobs()).toHaveLength(4);
  });

  it("a move after the install is captured from its event (before the job runs)", async () => {
    const move = seeded(2).find((r) => r.TYPE_ID !== 1)!;
    const stage = String(env.state(0).crm.deal.get(move.OWNER_ID)!.STAGE_ID) === "LOSE" ? "WON" : "LOSE";
    await env.control(`crm/deal/${move.OWNER_ID}`, { fields: { STAGE_ID: stage }, userId: 2 });
    await drainOffline(portalId);
    while (await processInboxBatch("test", 50));
    const captured = await getDb().fieldChange.findFirstOrThrow({
      where: { portalId, entityType: "deal", entityId: move.OWNER_ID, field: "STAGE_ID" },
    });
    expect(captured).toMatchObject({ source: "event", newValue: stage });
    moved = { id: move.OWNER_ID, stage, at: captured.changedAt };
  });

  it("records each move before the install once, as STAGE_ID / STATUS_ID, its time, the stage before", async () => {
    expect(await fromHistory("deal")).toEqual([]);
    await runJobs();
    const types = [
      ["deal", 2, "STAGE_ID"],
      ["lead", 1, "STATUS_ID"],
      ["smart_invoice", 31, "stageId"],
      ["dynamic_128", 128, "stageId"],
    ] as const;
    for (const [entityType, typeId, field] of types) {
      const rows = seeded(typeId);
      const moves = rows.filter((r) => r.TYPE_ID !== 1 && Date.parse(r.CREATED_TIME) < moved.at.getTime());
      // the stage before a move is the owner's previous row's
      const before = (r: (typeof rows)[number]) => rows.filter((c) => c.OWNER_ID === r.OWNER_ID && c.ID < r.ID).at(-1);
      const expected = moves.map((r) => ({
        entityId: r.OWNER_ID,
        field,
        changedAt: new Date(r.CREATED_TIME).toISOString(),
        oldValue: before(r)!.STAGE_ID,
        newValue: r.STAGE_ID,
        changedById: null,
      }));
      expect(expected.length).toBeGreaterThan(0);
      const got = (await fromHistory(entityType)).map((c) => ({
        entityId: c.entityId,
        field: c.field,
        changedAt: c.changedAt.toISOString(),
        oldValue: c.oldValue,
        newValue: c.newValue,
        changedById: c.changedById,
      }));
      expect(got).toEqual(expected);
    }
    expect((await fromHistory("lead")).map((c) => [c.oldValue, c.newValue])).toEqual([
      ["NEW", "IN_PROCESS"],
      ["IN_PROCESS", "JUNK"],
    ]);
    // the move after the install is the captured one only
    const movedNow = await getDb().fieldChange.findMany({
      where: { portalId, entityType: "deal", entityId: moved.id, field: "STAGE_ID", newValue: { equals: moved.stage } },
    });
    expect(movedNow.map((c) => c.source)).toEqual(["event"]);
  });

  it("the tab marks them as Bitrix24's stage history, without an author", async () => {
    const [change] = await fromHistory("deal");
    const [row] = await presentChanges(portalId, "deal", [change!], "en");
    expect(row).toMatchObject({ fieldCode: "STAGE_ID", who: "from Bitrix24's stage history" });
    const [ru] = await presentChanges(portalId, "deal", [change!], "ru");
    expect(ru!.who).toBe("из истории стадий Битрикс24");
  });

  it("a re-run adds nothing; a move the app captured is not recorded again, even inside the job's window", async () => {
    const before = await getDb().fieldChange.count({ where: { portalId } });
    expect(await runJobs()).toBe(0);
    // as if the captured move had happened while the first pass ran (before its cutoff)
    const later = new Date(moved.at.getTime() + 60_000).toISOString();
    expect(await runJobs((p) => ({ ...p, until: later }))).toBe(0);
    expect(await getDb().fieldChange.count({ where: { portalId } })).toBe(before);
  });
});
