// A lead's address (issue #14, item 1): crm.item.* does not carry it (the lead's `address` is "Deprecated. Field is
// disabled", b24restdocs crm/universal/object-fields.md); it is read from crm.address.list beside the item and kept
// under the legacy ADDRESS_* keys its history has always had (lib/history/lead-address.ts). Before, an address edit
// on a lead went unrecorded once leads were read through crm.item.* (decision 015).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalSession } from "@/lib/auth/session";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { revertChange } from "@/lib/history/revert";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal, settleCapture } from "../support/installed-portal";
import { frameSession } from "../support/sessions";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
let admin: PortalSession;
const settle = () => settleCapture(portalId);
const lead = (id: number) => env.state().crm.lead.get(id)!;
const edit = (id: number, fields: Record<string, unknown>) => env.control(`crm/lead/${id}`, { fields, userId: 2 });
async function changesOf(id: number, lang = "en") {
  const items = (await queryHistory(portalId, { entityType: "lead", entityId: id })).items;
  return { items, rows: await presentChanges(portalId, "lead", items, lang) };
}

beforeAll(async () => {
  env = await startAppWithFake();
  // a lead with an address before the install: the backfill takes it as its baseline, not as an edit
  Object.assign(lead(4), { ADDRESS: "Unter den Linden 1", ADDRESS_CITY: "Berlin", ADDRESS_COUNTRY: "Germany" });
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
  admin = (await frameSession(env.control, 1)).session;
});
afterAll(() => env.stop());

describe("a lead's address", () => {
  it("an address the lead had at install is the backfill's baseline, not a change", async () => {
    // the fake as Bitrix24: crm.item.fields of a lead names no address field, crm.address.list has it
    const client = await bitrixFor(portalId);
    const fields = await client.call<{ fields: Record<string, unknown> }>("crm.item.fields", { entityTypeId: 1 });
    expect(Object.keys(fields.result.fields).filter((k) => /^address/i.test(k))).toEqual([]);
    const rows = await client.call<unknown[]>("crm.address.list", { filter: { ENTITY_TYPE_ID: 1 } });
    expect(rows.result).toEqual([
      expect.objectContaining({ TYPE_ID: "1", ENTITY_ID: "4", CITY: "Berlin", ADDRESS_2: null }),
    ]);
    const snapshot = await getDb().crmSnapshot.findFirstOrThrow({
      where: { portalId, entityType: "lead", entityId: 4 },
    });
    expect(snapshot.fields).toMatchObject({ ADDRESS: "Unter den Linden 1", ADDRESS_CITY: "Berlin", ADDRESS_2: null });
    expect((await changesOf(4)).items).toEqual([]); // the baseline is no change
  });

  it("an address edited in the portal is recorded field by field, labelled as the portal labels them", async () => {
    await edit(4, { ADDRESS_CITY: "Potsdam", ADDRESS_POSTAL_CODE: "14467" });
    await settle();
    const { items, rows } = await changesOf(4);
    expect(items.map((c) => [c.field, c.oldValue, c.newValue]).sort()).toEqual([
      ["ADDRESS_CITY", "Berlin", "Potsdam"],
      ["ADDRESS_POSTAL_CODE", null, "14467"],
    ]);
    expect(rows.map((r) => r.field).sort()).toEqual(["City", "Postal Code"]);
    expect((await changesOf(4, "ru")).rows.map((r) => r.field).sort()).toEqual(["Город", "Почтовый индекс"]);
  });

  it("a revert writes the whole address back through crm.lead.update, the other address fields as they are", async () => {
    const city = (await changesOf(4)).items.find((c) => c.field === "ADDRESS_CITY")!;
    expect(await revertChange(portalId, city.id, { userId: 1, session: admin })).toEqual({ status: "done" });
    expect(lead(4)).toMatchObject({
      ADDRESS: "Unter den Linden 1",
      ADDRESS_CITY: "Berlin",
      ADDRESS_POSTAL_CODE: "14467",
      ADDRESS_COUNTRY: "Germany",
    });
    await settle(); // the revert's echo diffs to nothing
    const after = (await changesOf(4)).items.filter((c) => c.field === "ADDRESS_CITY");
    expect(after.map((c) => c.source)).toEqual(["revert", "event"]);
  });

  it("a box without crm.address.list is not asked: a lead's other edits are recorded, its address is not 'cleared'", async () => {
    const profile = await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId } });
    const methods = profile.methods as Record<string, unknown>;
    await getDb().capabilityProfile.update({
      where: { portalId },
      data: { methods: { ...methods, "crm.address.list": { isExisting: false, isAvailable: false } } },
    });
    try {
      const since = env.state().log.length;
      await edit(4, { TITLE: "Lead four, renamed" });
      await settle();
      expect(
        env
          .state()
          .log.slice(since)
          .filter((e) => e.rest === "crm.address.list"),
      ).toEqual([]);
      const fields = (await changesOf(4)).items.filter((c) => c.oldValue !== null || c.newValue !== null);
      expect(fields.filter((c) => c.field === "TITLE").map((c) => c.newValue)).toEqual(["Lead four, renamed"]);
      expect(fields.filter((c) => c.field.startsWith("ADDRESS") && c.newValue === null)).toEqual([]);
    } finally {
      await getDb().capabilityProfile.update({ where: { portalId }, data: { methods: methods as object } });
    }
  });

  it("an address added to a lead that had none, and one cleared, are recorded", async () => {
    await edit(5, { ADDRESS: "Nevsky 1", ADDRESS_CITY: "Saint Petersburg" });
    await settle();
    await edit(5, { ADDRESS: "", ADDRESS_CITY: "" });
    await settle();
    const { items } = await changesOf(5);
    expect(items.map((c) => `${c.field}: ${c.oldValue} → ${c.newValue}`).sort()).toEqual([
      "ADDRESS: Nevsky 1 → null",
      "ADDRESS: null → Nevsky 1",
      "ADDRESS_CITY: Saint Petersburg → null",
      "ADDRESS_CITY: null → Saint Petersburg",
    ]);
  });
});
