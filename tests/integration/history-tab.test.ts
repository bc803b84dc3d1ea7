import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@prisma/client";
import { issueSessionToken, type PortalSession } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { createInstalledPortal } from "../support/portal-fixture";

// The CRM tab and widget as a browser gets them (GET, server-rendered HTML): the session's portal only, filters,
// pages, escaping, admin-only actions, and a silent renewal page instead of an error when the session is gone.
const tokens = { access_token: "a".repeat(32), refresh_token: "r".repeat(32), expires: Math.floor(Date.now() / 1000) + 3600, scope: "crm" };
let a: { id: string; installedAt: Date };
let b: { id: string; installedAt: Date };
// Portal A answers every user's read of a record (its rights are tested in user-rights.test.ts against the fake).
let stub: Server;
const session = (portalId: string, isAdmin: boolean): PortalSession => ({ portalId, memberId: "m", portalOrigin: "http://127.0.0.1:1", userId: 1, userName: "Anna", isAdmin, lang: "en",
  userToken: "u".repeat(32), record: null, installedAt: (portalId === a.id ? a : b).installedAt.getTime() });

async function get(path: string, s: PortalSession | null, query: Record<string, string | number> = {}) {
  const { GET } = await import(`@/app/placements/${path}/route`) as { GET: (r: Request) => Promise<Response> };
  const token = s ? await issueSessionToken(s) : null;
  const params = new URLSearchParams(Object.entries({ ...query, ...(token ? { st: token } : {}) }).map(([k, v]) => [k, String(v)]));
  const res = await GET(new Request(`http://app/placements/${path}?${params}`));
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

const change = (portalId: string, i: number, extra: Partial<Prisma.FieldChangeCreateManyInput> = {}): Prisma.FieldChangeCreateManyInput => ({
  portalId, entityType: "deal", entityId: 7, field: i % 3 === 0 ? "TITLE" : "OPPORTUNITY", oldValue: `old ${i}`, newValue: `new ${i}`,
  changedById: 1 + (i % 2), changedAt: new Date(Date.UTC(2026, 0, 1, 0, i)), ...extra,
});

afterAll(() => stub.close());
beforeAll(async () => {
  stub = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: { ID: "7" } })));
  await new Promise<void>((r) => stub.listen(0, "127.0.0.1", r));
  a = await createInstalledPortal({ endpoint: `http://127.0.0.1:${(stub.address() as { port: number }).port}`, tokens });
  b = await createInstalledPortal({ endpoint: "http://127.0.0.1:2", tokens });
  await getDb().fieldChange.createMany({ data: [...Array.from({ length: 60 }, (_, i) => change(a.id, i)), change(b.id, 99, { newValue: "portal B secret" }),
    change(a.id, 100, { field: "COMMENTS", newValue: `<script>alert("x")</script>` })] });
  await getDb().crmFieldMeta.create({ data: { portalId: a.id, entityType: "deal", fields: { TITLE: { type: "string", title: "Name" }, OPPORTUNITY: { type: "double", title: "Amount" } } } });
  await getDb().userNameCache.createMany({ data: [{ portalId: a.id, userId: 1, name: "Anna Admin" }, { portalId: a.id, userId: 2, name: "Boris Manager" }] });
});

describe("the Change history tab", () => {
  it("shows the session portal's changes of the record, 50 a page, with the portal's labels", async () => {
    const page = await get("tab", session(a.id, false), { entity: "deal", id: 7 });
    expect(page).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
    expect(page.body).toContain("<span data-total>61</span> changes");
    expect(page.body.match(/<tr>/g)).toHaveLength(51); // header + 50 rows
    expect(page.body).toContain(">Amount<");
    expect(page.body).not.toContain("portal B secret");
    expect(page.body).toContain("data-revert"); // anyone may try: the write goes with their own rights
    const older = /href="([^"]*cursor=[^"]*)"/.exec(page.body)![1]!.replace(/&amp;/g, "&");
    const second = await get("tab", session(a.id, false), Object.fromEntries(new URL(older, "http://app").searchParams) as Record<string, string>);
    expect(second.body.match(/<tr>/g)).toHaveLength(12); // header + the remaining 11
    expect(second.body).toContain("← Newest");
  });

  it("filters by field and by user, and offers only the fields and users of this record", async () => {
    const byField = await get("tab", session(a.id, true), { entity: "deal", id: 7, field: "TITLE" });
    expect(byField.body).toContain("<span data-total>20</span> changes");
    expect(byField.body).toContain(`<option value="TITLE" selected>Name</option>`);
    expect(byField.body).toContain("data-revert");
    const byUser = await get("tab", session(a.id, true), { entity: "deal", id: 7, user: 2 });
    expect(byUser.body).toContain("<span data-total>30</span>");
    expect(byUser.body).not.toMatch(/<td data-label="Who">Anna Admin<\/td>/);
    expect(byUser.body).toContain(`<option value="2" selected>Boris Manager</option>`);
  });

  it("escapes what the portal's users typed", async () => {
    const page = await get("tab", session(a.id, false), { entity: "deal", id: 7, field: "COMMENTS" });
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body).not.toContain(`<script>alert("x")`);
  });

  it("answers bad input with 400 naming the parameter, and no session with a renewal page (401)", async () => {
    const bad = await get("tab", session(a.id, false), { entity: "task", id: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("entity must be deal, contact, company or lead");
    expect((await get("tab", session(a.id, false), { entity: "deal", id: -1 })).status).toBe(400);
    const none = await get("tab", null, { entity: "deal", id: 7 });
    expect(none.status).toBe(401);
    expect(none.body).toContain("data-renew");
    expect(none.body).not.toContain("new 1");
  });

  it("the widget shows the last five changes", async () => {
    const w = await get("widget", session(a.id, false), { entity: "deal", id: 7 });
    expect(w.status).toBe(200);
    expect(w.body.match(/<tr>/g)).toHaveLength(6);
    expect(w.body).toContain("Recent changes");
  });
});
