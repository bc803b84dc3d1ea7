// Quotes, new invoices and smart processes (issue #14): read through crm.item.* (camelCase names, {items}), their
// events ONCRMQUOTE* / ONCRMDYNAMICITEM* bound like the legacy CRM events, one detail tab per smart process, bound
// again when an admin adds a type (ONCRMTYPEADD) — no reinstall — with a backfill of its items.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderPage } from "../support/render-page";
import { forgetUserRights } from "@/lib/auth/user-rights";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { revertChange } from "@/lib/history/revert";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { installPortal, settleCapture } from "../support/installed-portal";
import { frameSession } from "../support/sessions";

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

async function historyOf(entityType: string, entityId: number) {
  const page = await queryHistory(portalId, { entityType, entityId });
  return { items: page.items, rows: await presentChanges(portalId, entityType, page.items, "en") };
}

async function page(token: string, entity: string, id: number) {
  const res = await renderPage(`/placements/tab?entity=${entity}&id=${id}&st=${encodeURIComponent(token)}`);
  return { status: res.status, body: await res.text() };
}

const boundTabs = () => env.state().placements.map((p) => p.placement);

describe("quotes, invoices and smart processes", () => {
  it("binds their events and one tab per type found by crm.type.list", () => {
    const events = env.state().bindings.map((b) => b.event);
    for (const e of [
      "ONCRMQUOTEUPDATE",
      "ONCRMDYNAMICITEMADD",
      "ONCRMDYNAMICITEMUPDATE",
      "ONCRMDYNAMICITEMDELETE",
      "ONCRMTYPEADD",
      "ONCRMTYPEDELETE",
    ])
      expect(events).toContain(e);
    expect(boundTabs()).toEqual(
      expect.arrayContaining(["CRM_QUOTE_DETAIL_TAB", "CRM_SMART_INVOICE_DETAIL_TAB", "CRM_DYNAMIC_128_DETAIL_TAB"]),
    );
  });

  it("the backfill took a baseline of every item type", async () => {
    const count = (entityType: string) => getDb().crmSnapshot.count({ where: { portalId, entityType } });
    expect([await count("quote"), await count("smart_invoice"), await count("dynamic_128")]).toEqual([4, 4, 6]);
  });

  it("a smart-process item edited in the portal is captured with its field's label and its author", async () => {
    await env.control("items/128/1", { fields: { ufCrm1Budget: 7500 }, userId: EMPLOYEE });
    await settle();
    const { items, rows } = await historyOf("dynamic_128", 1);
    expect(items.map((c) => [c.field, c.oldValue, c.newValue, c.changedById])).toEqual([
      ["ufCrm1Budget", 5000, 7500, EMPLOYEE],
    ]);
    expect(rows[0]).toMatchObject({ field: "Budget", oldValue: "5000", newValue: "7500" });
  });

  it("a quote and an invoice are captured (ONCRMQUOTEUPDATE; ONCRMDYNAMICITEMUPDATE, ENTITY_TYPE_ID 31)", async () => {
    await env.control("items/7/2", { fields: { title: "Quote renamed" }, userId: EMPLOYEE });
    await env.control("items/31/1", { fields: { ufCrm_SMART_INVOICE_1700000001: "PO-999" }, userId: 1 });
    await settle();
    const quote = await historyOf("quote", 2);
    expect(quote.items.map((c) => [c.field, c.newValue])).toEqual([["title", "Quote renamed"]]);
    const invoice = await historyOf("smart_invoice", 1);
    expect(invoice.items.map((c) => [c.field, c.oldValue, c.newValue])).toEqual([
      ["ufCrm_SMART_INVOICE_1700000001", "PO-100", "PO-999"],
    ]);
    expect(invoice.rows[0]).toMatchObject({ field: "PO number" });
    // item 1 of type 31 is not item 1 of type 128: nothing was recorded on the project
    expect((await historyOf("dynamic_128", 1)).items).toHaveLength(1);
  });

  it("a deleted item is recorded once the portal confirms it is gone", async () => {
    await env.control("items/128/6", {}, 0, "DELETE");
    await settle();
    const { items } = await historyOf("dynamic_128", 6);
    expect(items.map((c) => [c.field, c.newValue])).toEqual([["__record__", "deleted"]]);
  });

  it("an employee denied an item gets 403 on its tab, a readable item shows its history, a gone one 404", async () => {
    await env.control("rights", { userId: EMPLOYEE, entity: 128, id: 2, read: false });
    const denied = await frameSession(env.control, EMPLOYEE, { entity: "dynamic_128", id: 2 });
    expect((await page(denied.token, "dynamic_128", 2)).status).toBe(403);
    const allowed = await frameSession(env.control, EMPLOYEE, { entity: "dynamic_128", id: 1 });
    const tab = await page(allowed.token, "dynamic_128", 1);
    expect(tab.status).toBe(200);
    expect(tab.body).toContain("Budget");
    const gone = await frameSession(env.control, EMPLOYEE, { entity: "dynamic_128", id: 6 }); // deleted above
    expect((await page(gone.token, "dynamic_128", 6)).status).toBe(404);
    expect((await page(allowed.token, "dynamic_5", 1)).status).toBe(400); // no such key: old invoices, not served
  });

  it("a smart-process field is reverted with crm.item.update and its camelCase name", async () => {
    const change = (await queryHistory(portalId, { entityType: "dynamic_128", entityId: 1, field: "ufCrm1Budget" }))
      .items[0]!;
    expect(await revertChange(portalId, change.id, { userId: 1 })).toEqual({ status: "done" });
    const item = (await env.control("items/128/1", {}, 0, "GET")) as Record<string, unknown>;
    expect(item.ufCrm1Budget).toBe(5000);
  });

  it("a smart process added by an admin gets its tab without a reinstall, a backfill, its items captured", async () => {
    const type = (await env.control("crm-types", { action: "add", title: "Contracts" })) as { entityTypeId: number };
    const made = (await env.control(`items/${type.entityTypeId}/new`, { fields: { title: "C-1" } })) as { id: number };
    await waitUntil(async () => (await getDb().eventInbox.count({ where: { portalId, event: "ONCRMTYPEADD" } })) === 1);
    await settle();
    expect(boundTabs()).toContain(`CRM_DYNAMIC_${type.entityTypeId}_DETAIL_TAB`);
    await runBackfill(portalId); // the pass the type event queued
    const key = `dynamic_${type.entityTypeId}`;
    expect(await getDb().crmSnapshot.count({ where: { portalId, entityType: key } })).toBeGreaterThanOrEqual(1);
    await env.control(`items/${type.entityTypeId}/${made.id}`, { fields: { title: "C-1 signed" }, userId: EMPLOYEE });
    await settle();
    const { items } = await historyOf(key, made.id);
    expect(items.filter((c) => c.field === "title").map((c) => [c.oldValue, c.newValue])).toEqual([
      ["C-1", "C-1 signed"],
    ]);
    // deleted again: its tab goes with it
    await env.control("crm-types", { action: "delete", entityTypeId: type.entityTypeId });
    const deleted = { portalId, event: "ONCRMTYPEDELETE" };
    await waitUntil(async () => (await getDb().eventInbox.count({ where: deleted })) === 1);
    await settle();
    expect(boundTabs()).not.toContain(`CRM_DYNAMIC_${type.entityTypeId}_DETAIL_TAB`);
  });
});
