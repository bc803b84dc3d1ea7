import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderPage } from "../support/render-page";
import { getPageSession } from "@/lib/auth/page-session";
import { forgetUserRights } from "@/lib/auth/user-rights";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { startAppWithFake } from "../support/lifecycle-env";
import { fileNamesIn } from "../support/crm-files";
import { installPortal, settleCapture } from "../support/installed-portal";
import { frameSession } from "../support/sessions";

// What an employee's frame gives them (docs/security.md, "An employee's frame"): the frame's APPLICATION_TOKEN and
// their own AUTH_ID. With them they may read and change what Bitrix24 lets them — nothing more: no uninstall, no
// forged delete, no history of a record they may not read, no write with the app's (admin) token.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const EMPLOYEE = 2;
const settle = () => settleCapture(portalId);

beforeAll(async () => {
  env = await startAppWithFake();
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
});
afterAll(() => env.stop());
beforeEach(() => forgetUserRights());

/** A body any user of the portal can build: the application_token is in every frame they open. */
function postEvent(fields: Record<string, string>) {
  const body = new URLSearchParams({
    ts: String(Math.floor(Date.now() / 1000)),
    ...fields,
    "auth[member_id]": env.portal().memberId,
    "auth[application_token]": env.state().app.applicationToken,
    "auth[user_id]": "1",
    "auth[domain]": env.state().domain,
  });
  return fetch(`${env.app.url}/api/bitrix/events`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

/** The app's own route handlers, called as the browser calls them. */
async function api(path: string, token: string, body: object) {
  const route = (await import(`@/app${path}/route`)) as { POST: (r: Request) => Promise<Response> };
  const res = await route.POST(
    new Request(`http://app${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function page(path: "tab" | "widget", token: string, entity: string, id: number) {
  const res = await renderPage(`/placements/${path}?entity=${entity}&id=${id}&st=${encodeURIComponent(token)}`);
  return { status: res.status, body: await res.text() };
}

describe("a forged uninstall", () => {
  it.each(["1", "0"])("with CLEAN=%s leaves the portal working and its history intact", async (clean) => {
    await env.control("crm/deal/6", { fields: { TITLE: `Before forged uninstall ${clean}` }, userId: EMPLOYEE });
    await settle();
    const changes = await getDb().fieldChange.count({ where: { portalId } });
    expect(changes).toBeGreaterThan(0);
    const res = await postEvent({ event: "ONAPPUNINSTALL", "data[CLEAN]": clean, "data[LANGUAGE_ID]": "en" });
    expect(await res.json()).toEqual({ status: "refuted" });
    const portal = await getDb().portal.findUniqueOrThrow({ where: { id: portalId } });
    expect(portal.status).toBe("active");
    expect(await getDb().fieldChange.count({ where: { portalId } })).toBe(changes);
    expect(await getDb().auditLog.count({ where: { portalId, action: "uninstall.refuted" } })).toBeGreaterThan(0);
    // still capturing: a real edit after the forgery is recorded
    await env.control("crm/deal/6", { fields: { TITLE: `After forged uninstall ${clean}` }, userId: EMPLOYEE });
    await settle();
    expect(
      await getDb().fieldChange.count({
        where: { portalId, entityId: 6, field: "TITLE", newValue: { equals: `After forged uninstall ${clean}` } },
      }),
    ).toBe(1);
  });
});

describe("a forged delete", () => {
  it("of a living deal records nothing, keeps the snapshot, and the next real edit is captured", async () => {
    const before = await getDb().fieldChange.count({ where: { portalId, entityId: 7 } });
    expect((await postEvent({ event: "ONCRMDEALDELETE", "data[FIELDS][ID]": "7" })).status).toBe(200);
    await settle();
    expect(await getDb().fieldChange.count({ where: { portalId, entityId: 7 } })).toBe(before);
    expect(await getDb().crmSnapshot.count({ where: { portalId, entityType: "deal", entityId: 7 } })).toBe(1);
    await env.control("crm/deal/7", { fields: { COMMENTS: "edited after a forged delete" }, userId: EMPLOYEE });
    await settle();
    expect(await getDb().fieldChange.count({ where: { portalId, entityId: 7, field: "COMMENTS" } })).toBe(1);
  });

  it("a real delete is recorded without taking the author from the event body", async () => {
    await env.control("crm/deal/8", {}, 0, "DELETE");
    await settle();
    const deleted = await getDb().fieldChange.findFirstOrThrow({
      where: { portalId, entityId: 8, field: "__record__", newValue: { equals: "deleted" } },
    });
    expect(deleted.changedById).toBeNull();
  });
});

describe("a flood of forged update events", () => {
  it("costs one read of the record (and one of its product rows), not one per event", async () => {
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          postEvent({ event: "ONCRMDEALUPDATE", "data[FIELDS][ID]": "6", ts: String(1_700_000_000 + i + j) }),
        ),
      );
    }
    expect(
      await getDb().eventInbox.count({ where: { portalId, event: "ONCRMDEALUPDATE", status: "pending" } }),
    ).toBeGreaterThanOrEqual(300);
    const since = env.state().log.length;
    await settle();
    const reads = env
      .state()
      .log.slice(since)
      .filter((e) => e.rest === "batch" || e.rest?.startsWith("crm.deal.list"));
    // One batch reads the deal, one its product rows (Bitrix24 raises no event for rows: lib/history/product-rows.ts)
    expect(reads).toHaveLength(2);
    expect(await getDb().eventInbox.count({ where: { portalId, event: "ONCRMDEALUPDATE", status: "pending" } })).toBe(
      0,
    );
  });
});

describe("a record's history is as private as the record", () => {
  beforeAll(async () => {
    await env.control("crm/deal/5", { fields: { OPPORTUNITY: "123456" }, userId: 1 });
    await settle();
    await env.control("rights", { userId: EMPLOYEE, entity: "deal", id: 5, read: false, write: false });
  });

  it("an employee denied a record gets 4xx from every route that names it; an admin still sees everything", async () => {
    const { token } = await frameSession(env.control, EMPLOYEE);
    expect((await page("tab", token, "deal", 5)).status).toBe(403);
    expect((await page("tab", token, "deal", 5)).body).not.toContain("123456");
    expect((await page("widget", token, "deal", 5)).status).toBe(403);
    const before = env.state().timeline.length;
    expect((await api("/api/history/export", token, { entity: "deal", id: 5 })).status).toBe(403);
    expect(env.state().timeline.length).toBe(before);
    const change = await getDb().fieldChange.findFirstOrThrow({
      where: { portalId, entityId: 5, field: "OPPORTUNITY" },
    });
    expect((await api("/api/history/revert", token, { changeId: String(change.id) })).status).toBe(403);
    expect((await page("tab", token, "deal", 4)).status).toBe(200); // a record they may read
    const { token: adminToken } = await frameSession(env.control, 1);
    const adminView = await page("tab", adminToken, "deal", 5);
    expect(adminView.status).toBe(200);
  });

  it("an out-of-range record id is a 400 naming the field, not a 500", async () => {
    const { token } = await frameSession(env.control, 1);
    const res = await api("/api/history/export", token, { entity: "deal", id: 99_999_999_999 });
    expect(res).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    expect(String(res.body.message)).toContain("id");
  });

  it("a session opened for one record does not serve another (changing id in the tab's address)", async () => {
    const { token } = await frameSession(env.control, EMPLOYEE, { entity: "deal", id: 4 });
    expect((await page("tab", token, "deal", 4)).status).toBe(200);
    expect((await page("tab", token, "deal", 3)).status).toBe(403);
  });

  // docs/performance.md (bench `ui`): the sign-in's batch asks whether the user may read the frame's record, so the
  // tab that follows it makes no call of its own with the user's token — and its answer, a refusal too, still holds.
  it("the sign-in for a record answers the tab's rights check: one round trip with the user's token, same verdicts", async () => {
    const userCalls = (since: number) =>
      env
        .state()
        .log.filter((e) => e.n > since && e.userId === EMPLOYEE)
        .map((e) => e.rest);
    const start = env.state().counters.logSeq;
    const allowed = await frameSession(env.control, EMPLOYEE, { entity: "deal", id: 4 });
    const denied = await frameSession(env.control, EMPLOYEE, { entity: "deal", id: 5 });
    expect(userCalls(start)).toEqual(["batch", "batch"]);
    const signedIn = env.state().counters.logSeq;
    expect((await page("tab", allowed.token, "deal", 4)).status).toBe(200);
    const deniedView = await page("tab", denied.token, "deal", 5);
    expect(deniedView.status).toBe(403);
    expect(deniedView.body).not.toContain("123456");
    expect(userCalls(signedIn)).toEqual([]);
  });
});

describe("writes go with the user's own rights", () => {
  it("an employee's export is written with their token, and refused where their role refuses it", async () => {
    const { token } = await frameSession(env.control, EMPLOYEE, { entity: "deal", id: 4 });
    const since = env.state().log.length;
    const ok = await api("/api/history/export", token, { entity: "deal", id: 4 });
    expect(ok.status).toBe(200);
    const writes = env
      .state()
      .log.slice(since)
      .filter((e) => e.rest === "crm.timeline.comment.add" && e.status === 200);
    expect(writes.map((e) => e.userId)).toEqual([EMPLOYEE]);
    await env.control("rights", { userId: EMPLOYEE, entity: "deal", id: 4, write: false });
    try {
      const docs = env.state().crm.deal.get(4)!.UF_CRM_DOCS;
      expect(
        (await api("/api/history/export", token, { entity: "deal", id: 4, field: "UF_CRM_CONTRACT" })).status,
      ).toBe(403);
      expect(env.state().crm.deal.get(4)!.UF_CRM_DOCS).toEqual(docs);
    } finally {
      await env.control("rights", { userId: EMPLOYEE, entity: "deal", id: 4, write: true });
    }
  });

  it("attaching to a multiple file field adds to its files instead of replacing them", async () => {
    const { token } = await frameSession(env.control, 1);
    env.state().crm.deal.get(4)!.UF_CRM_DOCS = ["101", "102"];
    expect((await api("/api/history/export", token, { entity: "deal", id: 4, field: "UF_CRM_DOCS" })).status).toBe(200);
    const docs = env.state().crm.deal.get(4)!.UF_CRM_DOCS as string[];
    expect(docs.slice(0, 2)).toEqual(["101", "102"]);
    expect(docs).toHaveLength(3);
  });

  it("an employee attaches the CSV to a smart-process item's file field by its ufCrm… name, with their token", async () => {
    const { token } = await frameSession(env.control, EMPLOYEE, { entity: "dynamic_128", id: 2 });
    const since = env.state().log.length;
    const res = await api("/api/history/export", token, { entity: "dynamic_128", id: 2, field: "ufCrm1Files" });
    expect(res).toMatchObject({ status: 200, body: { attachedTo: "ufCrm1Files", name: "history-dynamic_128-2.csv" } });
    const value = env.state().items.stores.get(128)!.records.get(2)!.UF_CRM_1_FILES;
    expect(fileNamesIn(env.state(), value)).toEqual(["history-dynamic_128-2.csv"]);
    const writes = env
      .state()
      .log.slice(since)
      .filter((e) => e.rest === "crm.item.update" && e.status === 200);
    expect(writes.map((e) => e.userId)).toEqual([EMPLOYEE]);
  });

  it("an employee reverts a field they may edit (with their token), never one they may not", async () => {
    await env.control("crm/deal/9", { fields: { COMMENTS: "employee wrote this" }, userId: EMPLOYEE });
    await settle();
    const change = await getDb().fieldChange.findFirstOrThrow({
      where: { portalId, entityId: 9, field: "COMMENTS" },
      orderBy: { id: "desc" },
    });
    const { token } = await frameSession(env.control, EMPLOYEE);
    await env.control("rights", { userId: EMPLOYEE, entity: "deal", id: 9, write: false });
    expect((await api("/api/history/revert", token, { changeId: String(change.id) })).status).toBe(403);
    expect(env.state().crm.deal.get(9)!.COMMENTS).toBe("employee wrote this");
    await env.control("rights", { userId: EMPLOYEE, entity: "deal", id: 9, write: true });
    const since = env.state().log.length;
    expect(await api("/api/history/revert", token, { changeId: String(change.id) })).toMatchObject({
      status: 200,
      body: { status: "done" },
    });
    // (a write the portal turned away for its rate limit has no user: only the answered one counts)
    expect(
      env
        .state()
        .log.slice(since)
        .filter((e) => e.rest === "crm.item.update" && e.status === 200)
        .map((e) => e.userId),
    ).toEqual([EMPLOYEE]);
    expect(env.state().crm.deal.get(9)!.COMMENTS).not.toBe("employee wrote this");
  });

  it("reverts only a field that still holds the change's value: otherwise 409 with the current value, then overwrite", async () => {
    await env.control("crm/deal/10", { fields: { COMMENTS: "first" }, userId: EMPLOYEE });
    await settle();
    const change = await getDb().fieldChange.findFirstOrThrow({
      where: { portalId, entityId: 10, field: "COMMENTS" },
      orderBy: { id: "desc" },
    });
    await env.control("crm/deal/10", { fields: { COMMENTS: "second" }, userId: 1 });
    const { token } = await frameSession(env.control, EMPLOYEE);
    const conflict = await api("/api/history/revert", token, { changeId: String(change.id) });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: "conflict", currentValue: "second" });
    expect(String(conflict.body.message)).toContain("second");
    expect(env.state().crm.deal.get(10)!.COMMENTS).toBe("second");
    expect((await api("/api/history/revert", token, { changeId: String(change.id), overwrite: true })).status).toBe(
      200,
    );
    expect(env.state().crm.deal.get(10)!.COMMENTS).toBe(change.oldValue ?? "");
  });
});

describe("sessions outlive nothing that granted them", () => {
  it("a demoted admin loses admin actions at once", async () => {
    const { token } = await frameSession(env.control, 1);
    expect((await api("/api/admin/diagnostics", token, {})).status).toBe(200);
    env.state().users.get(1)!.ADMIN = false;
    try {
      expect((await api("/api/admin/diagnostics", token, {})).status).toBe(403);
    } finally {
      env.state().users.get(1)!.ADMIN = true;
    }
  });

  it("after an uninstall an old session gets 401, on the pages and the APIs", async () => {
    const employee = await frameSession(env.control, EMPLOYEE, { entity: "deal", id: 4 });
    const admin = await frameSession(env.control, 1);
    await env.control("uninstall", { clean: false });
    expect((await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).status).toBe("uninstalled");
    expect((await page("tab", employee.token, "deal", 4)).status).toBe(401);
    expect((await api("/api/history/export", employee.token, { entity: "deal", id: 4 })).status).toBe(401);
    expect((await api("/api/admin/diagnostics", admin.token, {})).status).toBe(401);
    expect(await getPageSession(admin.token)).toBeNull(); // the admin page renders no admin data for it
  });
});
