import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { captureRecords } from "@/lib/history/capture";
import { LEGACY_ENTITIES, type LegacyEntityType } from "@/lib/history/entity-types";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { reconcileEntity } from "@/lib/history/reconcile";
import { revertChange } from "@/lib/history/revert";
import { insertFirstSnapshots } from "@/lib/history/snapshots";
import type { PortalSession } from "@/lib/auth/session";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

// Decision 015: the legacy four switched from crm.<entity>.list to crm.item.list with their history keys unchanged.
// A portal installed before the switch has snapshots taken through crm.<entity>.list (select "*", "UF_*" and every
// multiple field by name — the old lib/history/records.ts); the first reads through crm.item.* must find nothing
// changed in records nobody edited, and an edit afterwards must be one change under the legacy key.

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const admin = { isAdmin: true, lang: "en" } as PortalSession;

/** What the app stored before the switch: each record read as the old path read it. */
async function oldPathSnapshots(entity: LegacyEntityType) {
  const client = await bitrixFor(portalId);
  const fields = (await client.call<Record<string, { isMultiple?: boolean }>>(`crm.${entity}.fields`, {})).result;
  const multiple = Object.entries(fields)
    .filter(([, m]) => m.isMultiple)
    .map(([k]) => k)
    .sort();
  const records: Record<string, unknown>[] = [];
  for await (const page of client.listPaged<Record<string, unknown>>(`crm.${entity}.list`, {
    order: { ID: "ASC" },
    select: ["*", "UF_*", ...multiple],
  }))
    records.push(...page);
  await insertFirstSnapshots(portalId, entity, records);
  await getDb().backfillRun.create({
    data: {
      portalId,
      entityType: entity,
      status: "done",
      lastId: 1e9,
      finishedAt: new Date(),
      startedAt: new Date(Date.now() - 3600_000),
    },
  });
  return records.length;
}

const changes = (where: Record<string, unknown> = {}) =>
  getDb().fieldChange.findMany({ where: { portalId, ...where }, orderBy: { id: "asc" } });
const settle = async () => {
  await drainOffline(portalId);
  while (await processInboxBatch("test"));
};

beforeAll(async () => {
  env = await startAppWithFake({ deals: 60 });
  portalId = (await installPortal(env)).id;
  await getDb().backfillRun.deleteMany({ where: { portalId } }); // installPortal's own pass: replaced by the old one
  await getDb().crmSnapshot.deleteMany({ where: { portalId } });
  for (const entity of LEGACY_ENTITIES) expect(await oldPathSnapshots(entity)).toBeGreaterThan(0);
});
afterAll(() => env.stop());

describe("the legacy four read through crm.item.*, keyed as before", () => {
  it("reads every unchanged record through crm.item.* and records zero changes (backfill, capture, sweep)", async () => {
    const before = { ...env.state().counters.rest };
    await getDb().backfillRun.updateMany({ where: { portalId }, data: { status: "pending", lastId: 0 } });
    await runBackfill(portalId); // a pass over known records diffs each against its old-path snapshot
    for (const entity of LEGACY_ENTITIES) {
      const ids = (await getDb().crmSnapshot.findMany({ where: { portalId, entityType: entity } })).map(
        (s) => s.entityId,
      );
      await captureRecords(portalId, entity, ids); // live capture's read of every record
      await getDb().reconcileRun.deleteMany({ where: { portalId, entityType: entity } });
      expect(await reconcileEntity(portalId, entity, await bitrixFor(portalId))).toMatchObject({ recovered: 0 });
    }
    expect(await changes()).toEqual([]);
    // counters.rest counts the commands inside batch requests too: no crm.<entity>.* was asked
    const asked = Object.keys(env.state().counters.rest).filter((m) => env.state().counters.rest[m] !== before[m]);
    expect(asked.filter((m) => /^crm\.(deal|contact|company|lead)\./.test(m))).toEqual([]);
    expect(asked).toEqual(expect.arrayContaining(["crm.item.list", "crm.item.fields"]));
    // the records kept their legacy keys; `fm` became PHONE/EMAIL; response-only copies (phone, isWon) are not kept
    const lead = (await getDb().crmSnapshot.findFirstOrThrow({ where: { portalId, entityType: "lead" } }))
      .fields as Record<string, unknown>;
    expect(lead).toMatchObject({ STATUS_ID: "NEW", UF_CRM_TEXT: expect.any(String), __read__: "item" });
    expect(Object.keys(lead).filter((k) => /[a-z]/.test(k) && !k.startsWith("__"))).toEqual([]);
    const contact = (
      await getDb().crmSnapshot.findFirstOrThrow({ where: { portalId, entityType: "contact", entityId: 2 } })
    ).fields as Record<string, unknown>;
    expect(contact.PHONE).toEqual([expect.objectContaining({ VALUE_TYPE: "WORK", TYPE_ID: "PHONE", ID: "20" })]);
    expect(contact).not.toHaveProperty("phone");
    // a change stored before the switch reads as it did: same key, label and value names from crm.item.fields
    const old = await getDb().fieldChange.create({
      data: {
        portalId,
        entityType: "deal",
        entityId: 1,
        field: "STAGE_ID",
        oldValue: "NEW",
        newValue: "WON",
        changedById: 1,
        changedAt: new Date("2026-01-01T00:00:00Z"),
        source: "event",
      },
    });
    expect(await presentChanges(portalId, "deal", [old], "en")).toMatchObject([
      { field: "Stage", fieldCode: "STAGE_ID" },
    ]);
    await getDb().fieldChange.delete({ where: { id: old.id } });
  });

  it("records one edit as one change under its legacy key: a lead's status, a deal's title, a custom field, a phone", async () => {
    await env.control("crm/lead/2", { fields: { STATUS_ID: "IN_PROCESS" }, userId: 2 });
    await env.control("crm/deal/5", { fields: { TITLE: "Renamed deal" }, userId: 2 });
    await env.control("crm/company/3", { fields: { UF_CRM_TEXT: "edited" }, userId: 2 });
    await env.control("crm/contact/4", {
      fields: { PHONE: [{ ID: "40", VALUE: "+49 30 999", VALUE_TYPE: "WORK" }] },
      userId: 2,
    });
    await settle();
    const got = (await changes()).map((c) => `${c.entityType}:${c.entityId}:${c.field}`);
    expect(got.sort()).toEqual(["company:3:UF_CRM_TEXT", "contact:4:PHONE", "deal:5:TITLE", "lead:2:STATUS_ID"]);
    const rows = await presentChanges(
      portalId,
      "contact",
      (await queryHistory(portalId, { entityType: "contact", entityId: 4 })).items,
      "en",
    );
    expect(rows).toMatchObject([{ field: "Phone", newValue: expect.stringContaining("→ +49 30 999 (WORK)") }]);
  });

  it("reverts through crm.item.update under the item's name, a multifield through crm.contact.update", async () => {
    const since = env.state().counters.logSeq;
    const [lead] = await changes({ entityType: "lead", field: "STATUS_ID" });
    await revertChange(portalId, lead!.id, { userId: 1, session: admin });
    const [phone] = await changes({ entityType: "contact", field: "PHONE" });
    await revertChange(portalId, phone!.id, { userId: 1, session: admin });
    const writes = env
      .state()
      .log.filter((e) => e.n > since && /update$/.test(e.rest ?? ""))
      .map((e) => e.rest);
    expect(writes).toEqual(["crm.item.update", "crm.contact.update"]);
    expect(env.state().crm.lead.get(2)!.STATUS_ID).toBe("NEW");
    expect(env.state().crm.contact.get(4)!.PHONE).toEqual([
      expect.objectContaining({ ID: "40", VALUE: expect.not.stringContaining("999") }),
    ]);
    await settle(); // the echo events diff to nothing: each revert is recorded once
    expect((await changes({ source: "revert" })).map((c) => c.field).sort()).toEqual(["PHONE", "STATUS_ID"]);
    expect(await changes({ source: { not: "revert" } })).toHaveLength(4);
  });
});
