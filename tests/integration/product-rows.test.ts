// Product rows of deals (issue #14): Bitrix24 raises no event for a row; a write through crm.item.productrow.*
// launches the owner's update operation (core productrow.php), so the deal's ONCRMDEALUPDATE arrives. The app reads
// the deal's rows with the deal and records a change of them row by row, not revertible.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableHtml } from "../support/render-page";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { PRODUCTS_FIELD } from "@/lib/history/diff";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(0).memberId } })).id;
  await runBackfill(portalId); // deals' first snapshots, rows included
});
afterAll(() => env.stop());

/** The offline queue's deliveries (the fake's default) processed as the worker would. */
async function deliver() {
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
}

async function productChanges(dealId: number) {
  const page = await queryHistory(portalId, { entityType: "deal", entityId: dealId, field: PRODUCTS_FIELD });
  return { items: page.items, rows: await presentChanges(portalId, "deal", page.items, "en") };
}

const rowsOf = (dealId: number) =>
  env
    .state(0)
    .items.productRows.filter((r) => r.ownerType === "D" && r.ownerId === dealId)
    .sort((a, b) => a.id - b.id);

describe("product rows of a deal", () => {
  it("the backfill's first snapshot holds the deal's rows", async () => {
    const snap = await getDb().crmSnapshot.findUniqueOrThrow({
      where: { portalId_entityType_entityId: { portalId, entityType: "deal", entityId: 2 } },
    });
    const kept = (snap.fields as Record<string, unknown>)[PRODUCTS_FIELD] as { id: number; quantity: number }[];
    expect(kept.map((r) => [r.id, r.quantity])).toEqual(rowsOf(2).map((r) => [r.id, r.quantity]));
  });

  it("a quantity change of a row is one products change 'quantity 1 → 3', by its author, not revertible", async () => {
    const [first] = rowsOf(2);
    expect(first!.quantity).toBe(1);
    await env.control(`productrows/${first!.id}`, { fields: { quantity: 3 }, userId: 2 });
    await deliver();
    const { items, rows } = await productChanges(2);
    expect(items).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      field: "Products",
      who: "Boris Manager",
      revertible: false,
      newValue: `${first!.productName}: quantity 1 → 3`,
    });
    expect(rows[0]!.oldValue).toContain(`${first!.productName} × 1 at ${first!.price.toFixed(2)}`);
    const { revertChange } = await import("@/lib/history/revert");
    await expect(revertChange(portalId, items[0]!.id, { userId: 1 })).rejects.toMatchObject({ code: "not_revertible" });
  });

  it("an added and a removed row are recorded as '+ …' and '− …'; the tab shows them without a revert", async () => {
    const client = await bitrixFor(portalId);
    const [gone] = rowsOf(3);
    await client.call("crm.item.productrow.add", {
      fields: { ownerType: "D", ownerId: 3, productName: "Gadget", price: 10, quantity: 1 },
    });
    await deliver();
    await client.call("crm.item.productrow.delete", { id: gone!.id });
    await deliver();
    const { rows } = await productChanges(3);
    expect(rows.map((r) => r.newValue)).toEqual([`− ${gone!.productName}`, "+ Gadget × 1 at 10.00"]);
    const html = await tableHtml(rows, "en", true);
    expect(html).toContain("+ Gadget × 1 at 10.00");
    expect(html).toContain(`− ${gone!.productName}`);
    expect(html).not.toContain("data-revert");
    const ru = await presentChanges(portalId, "deal", (await productChanges(3)).items, "ru");
    expect(ru.map((r) => [r.field, r.newValue])).toContainEqual(["Товары", "+ Gadget × 1 по 10.00"]);
  });

  it("a lead is read with its rows (none), and another field's edit records no rows change", async () => {
    await env.control("crm/deal/5", { fields: { TITLE: "Renamed" }, userId: 2 });
    await deliver();
    const page = await queryHistory(portalId, { entityType: "deal", entityId: 5 });
    expect(page.items.map((c) => c.field)).toEqual(["TITLE"]);
    const lead = await getDb().crmSnapshot.findUniqueOrThrow({
      where: { portalId_entityType_entityId: { portalId, entityType: "lead", entityId: 1 } },
    });
    expect((lead.fields as Record<string, unknown>)[PRODUCTS_FIELD]).toEqual([]);
  });
});

describe("product rows of quotes, new invoices and smart-process items (owner codes Q, SI, T80)", () => {
  it.each([
    ["quote", "Q"],
    ["smart_invoice", "SI"],
    ["dynamic_128", "T80"],
  ])(
    "%s: a row's quantity change raises the item's update event and is recorded as a products change",
    async (entityType, code) => {
      const [row] = env
        .state(0)
        .items.productRows.filter((r) => r.ownerType === code && r.ownerId === 1)
        .sort((a, b) => a.id - b.id);
      const snap = await getDb().crmSnapshot.findUniqueOrThrow({
        where: { portalId_entityType_entityId: { portalId, entityType, entityId: 1 } },
      });
      expect(((snap.fields as Record<string, unknown>)[PRODUCTS_FIELD] as unknown[]).length).toBeGreaterThan(0);
      const was = row!.quantity;
      await env.control(`productrows/${row!.id}`, { fields: { quantity: was + 4 }, userId: 2 });
      await deliver();
      const page = await queryHistory(portalId, { entityType, entityId: 1, field: PRODUCTS_FIELD });
      const rows = await presentChanges(portalId, entityType, page.items, "en");
      expect(rows.map((r) => r.newValue)).toEqual([`${row!.productName}: quantity ${was} → ${was + 4}`]);
    },
  );
});
