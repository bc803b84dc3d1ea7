import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as settingsRoute } from "@/app/api/admin/settings/route";
import { POST as revertRoute } from "@/app/api/history/revert/route";
import { getDb } from "@/lib/db";
import { retentionCutoff, runRetention } from "@/lib/history/retention";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// Retention (issue #17 item 3): history is kept forever unless the portal's admin chose 1, 2 or 5 years; the job
// deletes older changes of that portal only, in small batches.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const portalIds: string[] = [];
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [0, 1]) {
    await env.control("install", { mode: "ui", finish: true }, i);
    portalIds[i] = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
  }
});
afterAll(() => env.stop());

const NOW = new Date("2026-06-15T12:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
async function seed(portalId: string, entityId: number, ages: number[]) {
  await getDb().fieldChange.createMany({
    data: ages.map((d) => ({
      portalId,
      entityType: "deal",
      entityId,
      field: "TITLE",
      oldValue: "a",
      newValue: `${d} days`,
      changedById: 1,
      changedAt: daysAgo(d),
    })),
  });
}
const count = (portalId: string, entityId: number) => getDb().fieldChange.count({ where: { portalId, entityId } });
const post = async (token: string, body: unknown) => {
  const res = await settingsRoute(
    new Request("http://app/api/admin/settings", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("retention", () => {
  it("keeps everything by default", async () => {
    await seed(portalIds[0]!, 9001, [5000, 10]);
    expect(await runRetention(portalIds[0]!, { now: NOW })).toBe("forever");
    expect(await count(portalIds[0]!, 9001)).toBe(2);
  });

  it("deletes the portal's changes older than its years in batches, and nothing of another portal", async () => {
    await seed(portalIds[0]!, 9002, [800, 760, 740, 731, 729, 700, 1]); // two years ago: 2024-06-15
    await seed(portalIds[1]!, 9002, [800, 760, 1]);
    await getDb().portal.update({ where: { id: portalIds[0]! }, data: { retentionYears: 2 } });
    expect(retentionCutoff(2, NOW).toISOString()).toBe("2024-06-15T12:00:00.000Z");
    const report = await runRetention(portalIds[0]!, { now: NOW, batch: 2 });
    expect(report).toMatchObject({ deleted: 4 + 1, complete: true }); // 9001's 5000-day-old change goes too
    const left = await getDb().fieldChange.findMany({
      where: { portalId: portalIds[0]!, entityId: 9002 },
      orderBy: { changedAt: "asc" },
    });
    expect(left.map((c) => c.newValue)).toEqual(["729 days", "700 days", "1 days"]);
    expect(await count(portalIds[1]!, 9002)).toBe(3);
  });

  it("stops after its time budget and goes on next time", async () => {
    await seed(portalIds[0]!, 9003, [900, 901, 902, 903, 904]);
    const first = await runRetention(portalIds[0]!, { now: NOW, batch: 2, budgetMs: -1 });
    expect(first).toMatchObject({ deleted: 2, complete: false });
    expect(await runRetention(portalIds[0]!, { now: NOW, batch: 2 })).toMatchObject({ deleted: 3, complete: true });
    expect(await count(portalIds[0]!, 9003)).toBe(0);
  });
});

const TRACK_ALL = { untrackedTypes: [], untrackedFields: {} }; // tracking.test.ts
// the watch-rule notification settings as a portal starts (docs/watch-rules.md "Notification settings")
const NOTIFY_DEFAULTS = { watchPaused: false, watchShowValues: true, watchNotifyResponsibleDefault: true };

describe("POST /api/admin/settings", () => {
  it("lets an admin choose retention and the sweep period, and answers what is stored", async () => {
    const { token } = await frameSession(env.control, 1, null, 1);
    expect(await post(token, { retentionYears: 5, reconcileEveryMin: 30 })).toEqual({
      status: 200,
      body: { retentionYears: 5, reconcileEveryMin: 30, revertPolicy: "editors", ...TRACK_ALL, ...NOTIFY_DEFAULTS },
    });
    expect(await post(token, { retentionYears: null })).toEqual({
      status: 200,
      body: { retentionYears: null, reconcileEveryMin: 30, revertPolicy: "editors", ...TRACK_ALL, ...NOTIFY_DEFAULTS },
    });
  });

  it("refuses bad input with the field named, and changes nothing", async () => {
    const { token } = await frameSession(env.control, 1, null, 1);
    const before = await getDb().portal.findUniqueOrThrow({ where: { id: portalIds[1]! } });
    for (const body of [
      { retentionYears: 3 },
      { reconcileEveryMin: -1 },
      { reconcileEveryMin: 5, extra: 1 },
      "x",
      { revertPolicy: "everyone" },
    ]) {
      const res = await post(token, body);
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toMatch(/retentionYears|reconcileEveryMin|revertPolicy|extra|body|Unrecognized/);
    }
    const after = await getDb().portal.findUniqueOrThrow({ where: { id: portalIds[1]! } });
    expect([after.retentionYears, after.reconcileEveryMin]).toEqual([before.retentionYears, before.reconcileEveryMin]);
  });

  it("is for administrators only", async () => {
    const { token } = await frameSession(env.control, 2, null, 1);
    expect((await post(token, { retentionYears: 1 })).status).toBe(403);
    expect((await getDb().portal.findUniqueOrThrow({ where: { id: portalIds[1]! } })).retentionYears).toBe(null);
  });
});

describe("who may revert", () => {
  it("'admins' keeps reverts to portal administrators; 'editors' leaves it to Bitrix24's rights", async () => {
    const change = await getDb().fieldChange.create({
      data: {
        portalId: portalIds[1]!,
        entityType: "deal",
        entityId: 1,
        field: "TITLE",
        oldValue: "a",
        newValue: "b",
        changedById: 1,
        changedAt: new Date(),
      },
    });
    const revert = async (userId: number) => {
      const { token } = await frameSession(env.control, userId, null, 1);
      const res = await revertRoute(
        new Request("http://app/api/history/revert", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ changeId: String(change.id) }),
        }),
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const admin = (await frameSession(env.control, 1, null, 1)).token;
    expect((await post(admin, { revertPolicy: "admins" })).body.revertPolicy).toBe("admins");
    expect(await revert(2)).toMatchObject({ status: 403, body: { error: "revert_admins_only" } });
    expect((await revert(1)).body.error).not.toBe("revert_admins_only"); // an admin goes on to the revert itself
    await post(admin, { revertPolicy: "editors" });
    expect((await revert(2)).body.error).not.toBe("revert_admins_only");
  });
});
