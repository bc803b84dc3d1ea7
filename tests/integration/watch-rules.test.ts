import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELETE as deleteRoute } from "@/app/api/watch-rules/[id]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/watch-rules/route";
import { POST as settingsRoute } from "@/app/api/admin/settings/route";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { finishJob } from "@/lib/jobs/queue";
import { JOB_HANDLERS } from "@/lib/composition/registry";
import { notifyState } from "../fake-portal/methods-notify";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// Watch rules (issue #17 item 4, docs/watch-rules.md): matched on the capture path, delivered as Bitrix24
// notifications (im.notify.personal.add) and automation triggers (crm.automation.trigger.*) by the fake portal.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const ADMIN = 1,
  BORIS = 2,
  CLARA = 3;

const capture = async () => {
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
};
/** Runs the queued deliveries as a worker's background lane would; returns how many jobs ran. */
async function deliver(): Promise<number> {
  const jobs = await getDb().job.findMany({
    where: { kind: "watch.deliver", status: "pending" },
    orderBy: { id: "asc" },
  });
  for (const j of jobs) await finishJob(j.id, { ok: true, result: await JOB_HANDLERS["watch.deliver"]!(j) });
  return jobs.length;
}
const edit = async (id: number, fields: Record<string, unknown>, userId: number) => {
  await env.control(`crm/deal/${id}`, { fields, userId });
  await capture();
};
const notes = () => notifyState(env.state()).notifications;
const session = async (userId: number) => (await frameSession(env.control, userId)).token;
async function create(userId: number, body: unknown) {
  const res = await createRoute(
    new Request("http://app/api/watch-rules", {
      method: "POST",
      headers: { authorization: `Bearer ${await session(userId)}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  env = await startAppWithFake({ deals: 20 });
  for (const id of [5, 6])
    Object.assign(env.state().crm.deal.get(id)!, { ASSIGNED_BY_ID: String(CLARA), COMMENTS: "call back" });
  Object.assign(env.state().crm.deal.get(7)!, { ASSIGNED_BY_ID: String(BORIS) });
  await env.control("plan", { burst: 500, drain: 100 });
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
  await getDb().portal.update({ where: { id: portalId }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
  expect((await runBackfill(portalId)).complete).toBe(true);
  await getDb().job.deleteMany({ where: { kind: "watch.deliver" } });
});
afterAll(() => env.stop());

describe("a personal rule", () => {
  it("tells its author when Stage or Amount changes on deals they are responsible for — not their own edits", async () => {
    const rule = await create(CLARA, {
      name: "My big deals",
      entityType: "deal",
      fields: ["STAGE_ID", "OPPORTUNITY"],
      onlyMine: true,
    });
    expect(rule.status).toBe(201);
    await edit(5, { OPPORTUNITY: "12500.00" }, BORIS); // Clara's deal, edited by Boris: news for Clara
    await edit(5, { TITLE: "Renamed" }, BORIS); // a field the rule does not watch
    await edit(7, { OPPORTUNITY: "99.00" }, ADMIN); // Boris's deal
    await edit(6, { OPPORTUNITY: "10.00" }, CLARA); // Clara's own edit
    expect(await deliver()).toBe(1);
    expect(notes()).toHaveLength(1);
    const [n] = notes();
    expect(n).toMatchObject({ to: CLARA });
    expect(n!.message).toContain("My big deals");
    expect(n!.message).toMatch(/Deal #5/);
    expect(n!.message).toMatch(/Amount/);
    expect(n!.message).toMatch(/12[,\s]?500/);
    expect(n!.message).toContain("Boris Manager");
    expect(n!.message).toContain(`${env.portal().baseUrl}/crm/deal/details/5/`);
  });

  it("a delivery run twice leaves one notification (its TAG), and the backfill's findings notify nobody", async () => {
    const job = await getDb().job.findFirstOrThrow({ where: { kind: "watch.deliver" }, orderBy: { id: "desc" } });
    await JOB_HANDLERS["watch.deliver"]!({ id: job.id, portalId, kind: job.kind, payload: job.payload, attempts: 2 });
    expect(notes()).toHaveLength(1);
    // A change the backfill finds (no event) is history, not news.
    Object.assign(env.state().crm.deal.get(5)!, { OPPORTUNITY: "13000.00" });
    await getDb().backfillRun.updateMany({ where: { portalId }, data: { status: "pending", lastId: 0 } });
    expect((await runBackfill(portalId)).complete).toBe(true);
    expect(await getDb().fieldChange.count({ where: { portalId, entityId: 5, source: "backfill" } })).toBe(1);
    expect(await deliver()).toBe(0);
  });

  it("is the author's: others cannot see or delete it; bad input is refused with the field named", async () => {
    const [mine] = await getDb().watchRule.findMany({ where: { portalId, createdById: CLARA } });
    const list = async (userId: number) =>
      (
        (await (
          await listRoute(
            new Request("http://app/api/watch-rules", {
              headers: { authorization: `Bearer ${await session(userId)}` },
            }),
          )
        ).json()) as { rules: { id: string }[] }
      ).rules;
    expect((await list(CLARA)).map((r) => r.id)).toEqual([mine!.id]);
    expect(await list(BORIS)).toEqual([]);
    const del = (userId: number) => async () =>
      deleteRoute(
        new Request("http://app/x", {
          method: "DELETE",
          headers: { authorization: `Bearer ${await session(userId)}` },
        }),
        { params: Promise.resolve({ id: mine!.id }) },
      );
    expect((await (await del(BORIS))()).status).toBe(404);
    for (const [body, name] of [
      [{ name: "x", entityType: "order" }, "entityType"],
      [{ name: "", entityType: "deal" }, "name"],
      [{ name: "x", entityType: "deal", condition: "sometimes" }, "condition"],
      [{ name: "x", entityType: "deal", colour: 1 }, "colour"],
    ] as const) {
      const res = await create(BORIS, body);
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toContain(name);
    }
    expect(
      (await create(BORIS, { name: "x", entityType: "deal", scope: "portal", notifyResponsible: true })).status,
    ).toBe(403);
    expect((await create(BORIS, { name: "x", entityType: "deal", trigger: true })).status).toBe(400);
    expect((await (await del(CLARA))()).status).toBe(200);
    expect(await getDb().watchRule.count({ where: { id: mine!.id } })).toBe(0);
  });
});

describe("a portal rule", () => {
  it("tells the responsible person when Comment is cleared and runs the automation trigger it offers", async () => {
    const rule = await create(ADMIN, {
      name: "Comment wiped",
      entityType: "deal",
      fields: ["COMMENTS"],
      condition: "cleared",
      scope: "portal",
      notifyResponsible: true,
      trigger: true,
    });
    expect(rule.status).toBe(201);
    const code = String(rule.body.triggerCode);
    expect(notifyState(env.state()).triggers.get(code)).toBe("Change History: Comment wiped");
    const before = notes().length;
    await edit(6, { COMMENTS: "call back on Monday" }, BORIS); // changed, not cleared
    await edit(6, { COMMENTS: "" }, BORIS); // cleared: Clara is told, the trigger runs
    expect(await deliver()).toBe(1);
    const fresh = notes().slice(before);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ to: CLARA });
    expect(fresh[0]!.message).toContain("Comment wiped");
    expect(notifyState(env.state()).executions).toEqual([
      expect.objectContaining({ code, ownerTypeId: 2, ownerId: 6 }),
    ]);
    // Deleting the rule takes its trigger out of Bitrix24's automation settings.
    const res = await deleteRoute(
      new Request("http://app/x", { method: "DELETE", headers: { authorization: `Bearer ${await session(ADMIN)}` } }),
      { params: Promise.resolve({ id: String(rule.body.id) }) },
    );
    expect(res.status).toBe(200);
    expect(notifyState(env.state()).triggers.has(code)).toBe(false);
  });
});

describe("a rule added in another process", () => {
  it("applies to the very next change here: the capture path sees the portal's rules version move", async () => {
    await edit(5, { TITLE: "primes this process's rules" }, BORIS);
    await getDb().job.deleteMany({ where: { kind: "watch.deliver" } });
    // What createRule does in the web process: the rule and the portal's version, in one transaction.
    await getDb().$transaction([
      getDb().watchRule.create({
        data: {
          id: "00000000-0000-4000-8000-000000000017",
          portalId,
          createdById: ADMIN,
          scope: "portal",
          name: "Titles",
          entityType: "deal",
          fields: ["TITLE"],
          condition: "changed",
          onlyMine: false,
          notifyResponsible: true,
          triggerCode: null,
          lang: "en",
        },
      }),
      getDb().portal.update({ where: { id: portalId }, data: { watchRulesVersion: { increment: 1 } } }),
    ]);
    const before = notes().length;
    await edit(5, { TITLE: "seen at once" }, BORIS);
    expect(await deliver()).toBe(1);
    expect(notes().slice(before)).toEqual([
      expect.objectContaining({ to: CLARA, message: expect.stringContaining("seen at once") }),
    ]);
  });
});

describe("the portal's notification settings (docs/watch-rules.md)", () => {
  /** As the admin page's Notifications card saves them. */
  async function settings(body: Record<string, boolean>) {
    const res = await settingsRoute(
      new Request("http://app/api/admin/settings", {
        method: "POST",
        headers: { authorization: `Bearer ${await session(ADMIN)}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }
  /** An edit a second later than the last: each notification has its own TAG (it names the change's instant). */
  const later = async (id: number, fields: Record<string, unknown>, userId: number) => {
    await env.control("clock", { advance: 2 });
    await edit(id, fields, userId);
  };
  const executions = () => notifyState(env.state()).executions.length;

  it("a pause tells nobody of changes made during it or queued before it, runs triggers all the same, and lifts", async () => {
    expect(
      (await create(CLARA, { name: "Amounts", entityType: "deal", fields: ["OPPORTUNITY"], onlyMine: true })).status,
    ).toBe(201);
    expect(
      (
        await create(ADMIN, {
          name: "Comment robot",
          entityType: "deal",
          fields: ["COMMENTS"],
          scope: "portal",
          notifyResponsible: true,
          trigger: true,
        })
      ).status,
    ).toBe(201);
    await getDb().job.deleteMany({ where: { kind: "watch.deliver" } });
    const before = notes().length;
    const ran = executions();
    await later(5, { OPPORTUNITY: "501.00" }, BORIS); // owed before the pause …
    expect((await settings({ watchPaused: true })).watchPaused).toBe(true);
    expect(await deliver()).toBe(1); // … and delivered during it: nobody is told
    await later(5, { OPPORTUNITY: "502.00" }, BORIS); // made during the pause: nothing is even queued
    expect(await deliver()).toBe(0);
    await later(6, { COMMENTS: "robots still hear this" }, BORIS); // a trigger runs; the responsible person is not told
    expect(await deliver()).toBe(1);
    expect(executions()).toBe(ran + 1);
    expect(notes().length).toBe(before);
    await settings({ watchPaused: false });
    await later(5, { OPPORTUNITY: "503.00" }, BORIS);
    expect(await deliver()).toBe(1);
    expect(notes().slice(before)).toEqual([
      expect.objectContaining({ to: CLARA, message: expect.stringMatching(/503/) }),
    ]);
  });

  it("without values a notification names the changed field only", async () => {
    await settings({ watchShowValues: false });
    const before = notes().length;
    await later(5, { OPPORTUNITY: "7777.00" }, BORIS);
    expect(await deliver()).toBe(1);
    const fresh = notes().slice(before);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.message).toContain("Amounts");
    expect(fresh[0]!.message).toMatch(/Amount: changed \(Boris Manager/);
    expect(fresh[0]!.message).not.toMatch(/7[,\s]?777|503/); // neither the new value nor the old one
    await settings({ watchShowValues: true });
    await later(5, { OPPORTUNITY: "8888.00" }, BORIS);
    expect(await deliver()).toBe(1);
    expect(notes().at(-1)!.message).toMatch(/7[,\s]?777.* → .*8[,\s]?888/);
  });

  it("a new portal rule not told otherwise does what the portal's default says", async () => {
    const portalRule = (name: string, extra: object = {}) =>
      create(ADMIN, { name, entityType: "lead", scope: "portal", ...extra });
    const told = await portalRule("Leads, default on");
    expect(told.status).toBe(201);
    expect(told.body.notifyResponsible).toBe(true);
    await settings({ watchNotifyResponsibleDefault: false });
    expect((await portalRule("Leads, default off")).status).toBe(400); // neither a notification nor a trigger
    const quiet = await portalRule("Leads, trigger only", { trigger: true });
    expect(quiet.status).toBe(201);
    expect(quiet.body.notifyResponsible).toBe(false);
    expect((await portalRule("Leads, asked for", { notifyResponsible: true })).body.notifyResponsible).toBe(true);
    await settings({ watchNotifyResponsibleDefault: true });
  });
});

describe("the CRM tab's list (GET /api/watch-rules?mine=1)", () => {
  it("holds only the caller's own personal rules — an admin's too, without the portal's", async () => {
    const list = async (query: string) =>
      listRoute(
        new Request(`http://app/api/watch-rules${query}`, {
          headers: { authorization: `Bearer ${await session(ADMIN)}` },
        }),
      );
    const ids = async (query: string) =>
      ((await (await list(query)).json()) as { rules: { id: string }[] }).rules.map((r) => r.id);
    const own = await create(ADMIN, { name: "Admin's own", entityType: "contact" });
    const claras = await create(CLARA, { name: "Clara's contacts", entityType: "contact" });
    expect(await ids("?mine=1")).toEqual([own.body.id]);
    expect(await ids("")).toEqual(expect.arrayContaining([own.body.id, claras.body.id]));
    expect((await list("?mine=yes")).status).toBe(400);
  });
});
