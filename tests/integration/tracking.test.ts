import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as settingsRoute } from "@/app/api/admin/settings/route";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { trackableTypes } from "@/lib/admin/tracking";
import { dict } from "@/lib/i18n";
import { installPortal } from "../support/installed-portal";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// Which types and fields keep a history (issue #17 item 5): everything by default; an admin leaves out a type or
// single fields on the admin page. What is left out is still read, so tracking it again records exactly what
// changes from then on — no burst of made-up changes for what happened meanwhile.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;

beforeAll(async () => {
  env = await startAppWithFake({ deals: 6 });
  portalId = (await installPortal(env)).id;
  expect((await runBackfill(portalId)).complete).toBe(true);
});
afterAll(() => env.stop());

const post = async (userId: number, body: unknown) => {
  const { token } = await frameSession(env.control, userId);
  const res = await settingsRoute(
    new Request("http://app/api/admin/settings", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
async function edit(entity: string, id: number, fields: Record<string, unknown>) {
  await env.control(`crm/${entity}/${id}`, { fields, userId: 2 });
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
}
const changes = async (entityType: string, entityId: number) =>
  (
    await getDb().fieldChange.findMany({
      where: { portalId, entityType, entityId },
      orderBy: { id: "asc" },
    })
  ).map((c) => `${c.field}: ${String(c.oldValue)} → ${String(c.newValue)}`);

describe("what is tracked", () => {
  it("leaves out a field, then tracks it again from its current value", async () => {
    expect(await post(1, { untrackedFields: { deal: ["COMMENTS"] } })).toMatchObject({
      status: 200,
      body: { untrackedTypes: [], untrackedFields: { deal: ["COMMENTS"] } },
    });
    const before = String(env.state().crm.deal.get(2)!.TITLE);
    await edit("deal", 2, { TITLE: "tracked title", COMMENTS: "not kept" });
    expect(await changes("deal", 2)).toEqual([`TITLE: ${before} → tracked title`]);

    expect((await post(1, { untrackedFields: {} })).status).toBe(200);
    await edit("deal", 2, { COMMENTS: "kept again" });
    expect(await changes("deal", 2)).toEqual([`TITLE: ${before} → tracked title`, "COMMENTS: not kept → kept again"]);
  });

  it("leaves out a whole type: its edits, adds and deletes keep nothing", async () => {
    expect((await post(1, { untrackedTypes: ["lead"] })).status).toBe(200);
    await edit("lead", 1, { TITLE: "not kept" });
    const added = Number((await env.control("crm/lead/new", { fields: { TITLE: "new lead" }, userId: 2 })).id);
    await drainOffline(portalId);
    while (await processInboxBatch("test", 50));
    await env.control(`crm/lead/${added}`, { userId: 2 }, 0, "DELETE");
    await drainOffline(portalId);
    while (await processInboxBatch("test", 50));
    expect(await getDb().fieldChange.count({ where: { portalId, entityType: "lead" } })).toBe(0);
    // Deals are still tracked.
    await edit("deal", 3, { TITLE: "deal kept" });
    expect((await changes("deal", 3)).at(-1)).toMatch(/→ deal kept$/);
    expect((await post(1, { untrackedTypes: [] })).status).toBe(200);
  });

  it("refuses a type or field that is none, with the field named, and is for administrators only", async () => {
    for (const body of [
      { untrackedTypes: ["bogus"] },
      { untrackedTypes: ["dynamic_5"] },
      { untrackedFields: { deal: ["a b"] } },
      { untrackedFields: { nope: ["TITLE"] } },
      { untrackedFields: ["TITLE"] },
    ]) {
      const res = await post(1, body);
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toMatch(/^untracked(Types|Fields)/);
    }
    expect((await post(2, { untrackedTypes: ["deal"] })).status).toBe(403);
    expect((await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).untrackedTypes).toEqual([]);
  });

  it("offers every type with its fields by the portal's labels, bookkeeping fields left out", async () => {
    const types = await trackableTypes(portalId, dict("en"));
    expect(types.slice(0, 4).map((t) => t.key)).toEqual(["deal", "contact", "company", "lead"]);
    const deal = types.find((t) => t.key === "deal")!;
    expect(deal.fields.map((f) => f.key)).toContain("COMMENTS");
    expect(deal.fields.map((f) => f.key)).not.toContain("DATE_MODIFY");
    expect(deal.fields.find((f) => f.key === "TITLE")!.label).not.toBe("TITLE");
  });
});
