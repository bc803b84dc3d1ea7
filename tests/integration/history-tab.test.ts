import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPage } from "../support/render-page";
import { Prisma } from "@prisma/client";
import { issueSessionToken, type PortalSession } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { resolvePlacement } from "@/lib/history/pages";
import { createInstalledPortal } from "../support/portal-fixture";

// The CRM tab and widget as a browser gets them (GET, server-rendered HTML): the session's portal only, filters,
// pages, escaping, admin-only actions, and a silent renewal page instead of an error when the session is gone.
const tokens = {
  access_token: "a".repeat(32),
  refresh_token: "r".repeat(32),
  expires: Math.floor(Date.now() / 1000) + 3600,
  scope: "crm",
};
let a: { id: string; installedAt: Date };
let b: { id: string; installedAt: Date };
// Portal A answers every user's read of a record (its rights are tested in user-rights.test.ts against the fake).
let stub: Server;
const session = (portalId: string, isAdmin: boolean): PortalSession => ({
  portalId,
  memberId: "m",
  portalOrigin: "http://127.0.0.1:1",
  userId: 1,
  userName: "Anna",
  isAdmin,
  lang: "en",
  userToken: "u".repeat(32),
  record: null,
  installedAt: (portalId === a.id ? a : b).installedAt.getTime(),
});

async function get(path: string, s: PortalSession | null, query: Record<string, string | number> = {}) {
  const token = s ? await issueSessionToken(s) : null;
  const params = new URLSearchParams(
    Object.entries({ ...query, ...(token ? { st: token } : {}) }).map(([k, v]) => [k, String(v)]),
  );
  const res = await renderPage(`/placements/${path}?${params}`);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

const change = (
  portalId: string,
  i: number,
  extra: Partial<Prisma.FieldChangeCreateManyInput> = {},
): Prisma.FieldChangeCreateManyInput => ({
  portalId,
  entityType: "deal",
  entityId: 7,
  field: i % 3 === 0 ? "TITLE" : "OPPORTUNITY",
  oldValue: `old ${i}`,
  newValue: `new ${i}`,
  changedById: 1 + (i % 2),
  changedAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
  ...extra,
});

afterAll(() => stub.close());
beforeAll(async () => {
  stub = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: { ID: "7" } })),
  );
  await new Promise<void>((r) => stub.listen(0, "127.0.0.1", r));
  a = await createInstalledPortal({
    endpoint: `http://127.0.0.1:${(stub.address() as { port: number }).port}`,
    tokens,
  });
  b = await createInstalledPortal({ endpoint: "http://127.0.0.1:2", tokens });
  await getDb().fieldChange.createMany({
    data: [
      ...Array.from({ length: 60 }, (_, i) => change(a.id, i)),
      change(b.id, 99, { newValue: "portal B secret" }),
      change(a.id, 100, { field: "COMMENTS", newValue: `<script>alert("x")</script>` }),
    ],
  });
  await getDb().crmFieldMeta.create({
    data: {
      portalId: a.id,
      entityType: "deal",
      fields: { TITLE: { type: "string", title: "Name" }, OPPORTUNITY: { type: "double", title: "Amount" } },
    },
  });
  await getDb().userNameCache.createMany({
    data: [
      { portalId: a.id, userId: 1, name: "Anna Admin" },
      { portalId: a.id, userId: 2, name: "Boris Manager" },
    ],
  });
});

describe("the Change history tab", () => {
  it("shows the session portal's changes of the record, 50 a page, with the portal's labels", async () => {
    const page = await get("tab", session(a.id, false), { entity: "deal", id: 7 });
    expect(page).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
    expect(page.body).toContain('<span data-total="">61</span> changes');
    expect(page.body.match(/<tr>/g)).toHaveLength(51); // header + 50 rows
    expect(page.body).toContain(">Amount<");
    expect(page.body).not.toContain("portal B secret");
    expect(page.body).toContain("data-revert"); // anyone may try: the write goes with their own rights
    const older = /href="([^"]*cursor=[^"]*)"/.exec(page.body)![1]!.replace(/&amp;/g, "&");
    const second = await get(
      "tab",
      session(a.id, false),
      Object.fromEntries(new URL(older, "http://app").searchParams) as Record<string, string>,
    );
    expect(second.body.match(/<tr>/g)).toHaveLength(12); // header + the remaining 11
    expect(second.body).toContain("← Newest");
  });

  it("filters by field and by user, and offers only the fields and users of this record", async () => {
    const byField = await get("tab", session(a.id, true), { entity: "deal", id: 7, field: "TITLE" });
    expect(byField.body).toContain('<span data-total="">20</span> changes');
    expect(byField.body).toContain(`<option value="TITLE" selected="">Name</option>`);
    expect(byField.body).toContain("data-revert");
    const byUser = await get("tab", session(a.id, true), { entity: "deal", id: 7, user: 2 });
    expect(byUser.body).toContain('<span data-total="">30</span>');
    expect(byUser.body).not.toMatch(/<td data-label="Who">Anna Admin<\/td>/);
    expect(byUser.body).toContain(`<option value="2" selected="">Boris Manager</option>`);
  });

  it("escapes what the portal's users typed", async () => {
    const page = await get("tab", session(a.id, false), { entity: "deal", id: 7, field: "COMMENTS" });
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body).not.toContain(`<script>alert("x")`);
  });

  // Bad input is a 400 naming the parameter (proxy.ts sets the status, the page names it: decision 013), in the
  // session's language; without a session the renewal page comes first (401), whatever the address.
  it("answers bad input with 400 naming the parameter, and no session with a renewal page (401)", async () => {
    const bad = await get("tab", session(a.id, false), { entity: "task", id: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/role="alert">Record: entity must be deal, contact, company or lead/);
    const abc = await get("tab", session(a.id, false), { entity: "deal", id: "abc" });
    expect(abc.status).toBe(400);
    expect(abc.body).toContain("Record: id must be a record id");
    expect(abc.body).not.toContain("new 1");
    const minus = await get("widget", session(a.id, false), { entity: "deal", id: -1 });
    expect(minus.status).toBe(400);
    expect(minus.body).toContain("Record: id ");
    const period = await get("tab", session(a.id, false), { entity: "deal", id: 7, from: "yesterday" });
    expect(period.status).toBe(400);
    expect(period.body).toContain("Record: from must be a date (YYYY-MM-DD)");
    const ru = await get("tab", { ...session(a.id, false), lang: "ru" }, { entity: "deal", id: 7, source: "robot" });
    expect(ru.status).toBe(400);
    expect(ru.body).toContain("Запись: source ");
    const token = await issueSessionToken(session(a.id, false));
    expect(await resolvePlacement({ entity: "task", id: "7", st: token }, async () => null, "tab")).toMatchObject({
      kind: "invalid",
      message: expect.stringContaining("entity must be deal, contact, company or lead"),
    });
    const none = await get("tab", null, { entity: "deal", id: 7 });
    expect(none.status).toBe(401);
    expect(none.body).toContain("data-renew");
    expect(none.body).not.toContain("new 1");
    expect((await get("tab", null, { entity: "deal", id: "abc" })).status).toBe(401);
  });

  it("the widget shows the last five changes", async () => {
    const w = await get("widget", session(a.id, false), { entity: "deal", id: 7 });
    expect(w.status).toBe(200);
    expect(w.body.match(/<tr>/g)).toHaveLength(6);
    expect(w.body).toContain("Recent changes");
  });
});

describe("change sets and filters (issue #16 item 3)", () => {
  it("shows changes made together as one entry with its fields inside, and filters by period and source", async () => {
    const at = new Date(Date.UTC(2026, 1, 3, 10, 0));
    await getDb().fieldChange.createMany({
      data: [
        change(a.id, 0, { field: "TITLE", changedById: 2, changedAt: at }),
        change(a.id, 1, { field: "OPPORTUNITY", changedById: 2, changedAt: at }),
        change(a.id, 2, { field: "COMMENTS", changedById: 2, changedAt: at }),
        change(a.id, 3, {
          field: "TITLE",
          changedById: 1,
          changedAt: new Date(Date.UTC(2026, 1, 4, 9)),
          source: "revert",
        }),
        change(a.id, 4, {
          field: "STAGE_ID",
          changedById: null,
          changedAt: new Date(Date.UTC(2026, 1, 5)),
          source: "stagehistory",
        }),
      ],
    });
    const feb = { entity: "deal", id: 7, from: "2026-02-03", to: "2026-02-05" };
    const page = await get("tab", session(a.id, false), feb);
    expect(page.body).toContain('<span data-total="">5</span>');
    const sets = page.body.match(/<tbody class="set[^"]*">[\s\S]*?<\/tbody>/g)!;
    expect(sets).toHaveLength(3); // newest first: the stage move, the revert, the three-field edit
    const edit = sets[2]!;
    expect(edit.match(/<tr>/g)).toHaveLength(3);
    expect(edit.match(/Boris Manager/g)).toHaveLength(1); // the author and the moment once, for the whole set
    expect(edit.match(/<time /g)).toHaveLength(1);
    for (const f of ["Name", "Amount", "COMMENTS"]) expect(edit).toContain(`class="field">${f}</td>`);
    expect(edit.match(/data-revert=/g)).toHaveLength(3); // each field keeps its own revert
    const total = async (q: Record<string, string>) =>
      /<span data-total="">(\d+)<\/span>/.exec((await get("tab", session(a.id, false), { ...feb, ...q })).body)?.[1];
    expect(await total({ from: "2026-02-03", to: "2026-02-03" })).toBe("3");
    expect(await total({ from: "2026-02-04" })).toBe("2");
    expect(await total({ source: "user" })).toBe("3");
    expect(await total({ source: "revert" })).toBe("1");
    expect(await total({ source: "stagehistory" })).toBe("1");
    expect(await total({ source: "reconciled" })).toBe("0");
    const form = (await get("tab", session(a.id, false), { ...feb, source: "revert" })).body;
    expect(form).toContain('<option value="revert" selected="">Reverts</option>');
    expect(form).toContain('name="from" value="2026-02-03"');
    expect((await get("tab", session(a.id, false), { ...feb, from: "yesterday" })).status).toBe(400);
  });
});

describe("feedback a person expects (issue #16 item 5)", () => {
  it("shows a revert as a revert, the change it undid as reverted, and the success message under a filter", async () => {
    const at = (h: number) => new Date(Date.UTC(2026, 2, 2, h));
    await getDb().fieldChange.createMany({
      data: [
        change(a.id, 0, { field: "TITLE", oldValue: "Before", newValue: "Typo", changedById: 2, changedAt: at(9) }),
        change(a.id, 0, {
          field: "TITLE",
          oldValue: "Typo",
          newValue: "Before",
          changedById: 1,
          changedAt: at(10),
          source: "revert",
        }),
      ],
    });
    const march = { entity: "deal", id: 7, from: "2026-03-02", to: "2026-03-02" };
    const page = (await get("tab", session(a.id, false), march)).body;
    const [revert, undone] = page.match(/<tbody class="set[^"]*">[\s\S]*?<\/tbody>/g)!;
    expect(revert).toContain('<span class="tag tag-revert">revert</span>');
    expect(undone).toContain('data-reverted="">Reverted</span>');
    expect(undone).not.toContain("data-revert="); // nothing left to revert
    expect(page).not.toContain("data-done");
    // The revert island reloads with done=revert: the message shows even when the filter hides the revert's entry.
    const filtered = (await get("tab", session(a.id, false), { ...march, source: "user", done: "revert" })).body;
    expect(filtered).toContain("Reverted: the old value is back in Bitrix24.");
    expect(filtered).not.toContain('class="tag tag-revert"');
    expect(filtered).toContain('data-reverted="">Reverted</span>'); // the undone change says so under the filter too
  });

  it('says an edit saved moments ago is being recorded instead of "no changes yet"', async () => {
    const empty = await get("tab", session(a.id, false), { entity: "contact", id: 7 });
    expect(empty.body).toContain("No changes recorded for this record yet.");
    expect(empty.body).not.toContain("data-updating");
    const inbox = await getDb().eventInbox.create({
      data: {
        portalId: a.id,
        event: "ONCRMCONTACTUPDATE",
        idempotencyKey: `t-${Date.now()}`,
        payload: { data: { FIELDS: { ID: "7" } } },
        status: "processing",
      },
    });
    const updating = await get("tab", session(a.id, false), { entity: "contact", id: 7 });
    expect(updating.body).toContain("Updating… an edit saved moments ago is being recorded.");
    expect(updating.body).not.toContain("No changes recorded");
    await getDb().eventInbox.update({ where: { id: inbox.id }, data: { status: "done" } });
    expect((await get("tab", session(a.id, false), { entity: "contact", id: 7 })).body).not.toContain("data-updating");
  });

  it("the widget links to the full history", async () => {
    const w = (await get("widget", session(a.id, false), { entity: "deal", id: 7 })).body;
    expect(w).toMatch(
      /<a data-nav="true" href="\/placements\/tab\?st=[^"]+&amp;entity=deal&amp;id=7">Full history →<\/a>/,
    );
  });
});
