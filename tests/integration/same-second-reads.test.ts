import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { recordReader } from "@/lib/history/capture";
import { getFieldMeta } from "@/lib/history/fields";
import { runBackfill } from "@/lib/history/backfill";
import { applySnapshots } from "@/lib/history/snapshots";
import { installPortal } from "../support/installed-portal";
import { startAppWithFake } from "../support/lifecycle-env";

// Two saves in one second carry the same DATE_MODIFY (whole seconds), and reads run side by side: a capture beside a
// backfill page or a sweep, an offline drain beside an online event. A read begun before the snapshot's state was
// read may hold the older of the two saves; applied, it recorded the newer value changed back ("two → one"), and the
// next read recorded it again ("one → two") — history that never happened (lib/history/snapshots.ts, settledAt).
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const DEAL = 4;

beforeAll(async () => {
  env = await startAppWithFake({ deals: 8 });
  portalId = (await installPortal(env)).id;
  expect((await runBackfill(portalId)).complete).toBe(true);
});
afterAll(() => env.stop());

const titles = async () =>
  (
    await getDb().fieldChange.findMany({
      where: { portalId, entityType: "deal", entityId: DEAL, field: "TITLE" },
      orderBy: { id: "asc" },
    })
  ).map((c) => `${String(c.oldValue)} → ${String(c.newValue)}`);
const snapshotTitle = async () =>
  (
    (
      await getDb().crmSnapshot.findUniqueOrThrow({
        where: { portalId_entityType_entityId: { portalId, entityType: "deal", entityId: DEAL } },
      })
    ).fields as Record<string, unknown>
  ).TITLE;

describe("reads of saves made in the same second", () => {
  it("records each save once, in order, whatever order the reads are applied in", async () => {
    const client = await bitrixFor(portalId);
    const meta = await getFieldMeta(portalId, "deal", client);
    const read = recordReader(portalId, "deal", client, meta);
    const deal = env.state().crm.deal.get(DEAL)!;
    const original = String(deal.TITLE);
    // Saves written straight into the fake's store (no events): the test decides which read sees which save.
    const stamp = env.fake.fake.clock.iso();
    Object.assign(deal, { TITLE: "one", DATE_MODIFY: stamp, MODIFY_BY_ID: "2" });
    const readOne = new Date();
    const [one] = await read([DEAL]);
    Object.assign(deal, { TITLE: "two" }); // a second save within the same second: the same DATE_MODIFY
    const readTwo = new Date();
    const [two] = await read([DEAL]);
    expect([one!.TITLE, two!.TITLE, one!.DATE_MODIFY]).toEqual(["one", "two", two!.DATE_MODIFY]);

    // The later read is applied first (a live capture), the earlier one after it (a backfill page read before it).
    await applySnapshots(portalId, "deal", [two!], meta, { source: "event", readAt: readTwo });
    expect(await applySnapshots(portalId, "deal", [one!], meta, { source: "backfill", readAt: readOne })).toBe(0);
    expect(await snapshotTitle()).toBe("two");
    // With a reread, the stale record is read again: the portal still has "two", so nothing more is recorded.
    expect(
      await applySnapshots(portalId, "deal", [one!], meta, { source: "backfill", readAt: readOne, reread: read }),
    ).toBe(0);
    expect(await titles()).toEqual([`${original} → two`]);

    // A third save in the same second, read after the snapshot was settled, is a real change and is recorded.
    Object.assign(deal, { TITLE: "three" });
    const readThree = new Date();
    const [three] = await read([DEAL]);
    expect(
      await applySnapshots(portalId, "deal", [three!], meta, { source: "event", readAt: readThree }),
    ).toBeGreaterThan(0);
    // A stale read arriving when the portal has moved on again: the reread records what the portal now holds.
    Object.assign(deal, { TITLE: "four" });
    await applySnapshots(portalId, "deal", [one!], meta, { source: "reconciled", readAt: readOne, reread: read });
    expect(await titles()).toEqual([`${original} → two`, "two → three", "three → four"]);
    expect(await snapshotTitle()).toBe("four");
  });
});
