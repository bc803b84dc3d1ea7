// Multiple fields (PHONE, EMAIL, WEB, IM — crm_multifield, issue #14): written item by item as Bitrix24 does
// (b24restdocs crm/contacts/crm-contact-update.md "Working with Multiple Fields"), recorded item by item with type
// and ID, shown as "+ phone …", "− e-mail …", "phone A → B (WORK)", and reverted in the same update form.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@prisma/client";
import type { PortalSession } from "@/lib/auth/session";
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
beforeAll(async () => {
  env = await startAppWithFake();
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
  admin = (await frameSession(env.control, 1)).session;
  // Reverts without rest_auth_connector: the revert's own write comes back as an event and must diff to nothing.
  await getDb().capabilityProfile.update({
    where: { portalId },
    data: { features: { rest_offline_extended: "Y", rest_auth_connector: "N" } },
  });
});
afterAll(() => env.stop());

const contact = (id: number) => env.state().crm.contact.get(id)!;
const edit = (id: number, fields: Record<string, unknown>) => env.control(`crm/contact/${id}`, { fields, userId: 2 });
async function changesOf(id: number, field: string) {
  const items = (await queryHistory(portalId, { entityType: "contact", entityId: id, field })).items;
  return { items, rows: await presentChanges(portalId, "contact", items, "en") };
}

describe("the fake writes multiple fields as Bitrix24 does", () => {
  it("overwrites by ID, deletes by ID with an empty VALUE, adds one without ID, keeps what is not named", async () => {
    await edit(1, { PHONE: [{ VALUE_TYPE: "MOBILE", VALUE: "+49 170 1" }] });
    const [kept, added] = contact(1).PHONE as Record<string, string>[];
    expect(kept).toMatchObject({ ID: "10", VALUE_TYPE: "WORK" });
    expect(added).toMatchObject({ VALUE_TYPE: "MOBILE", VALUE: "+49 170 1", TYPE_ID: "PHONE" });
    expect(Number(added!.ID)).toBeGreaterThan(0);
    await edit(1, {
      PHONE: [
        { ID: "10", VALUE: "" },
        { ID: added!.ID, VALUE: "+49 170 2" },
      ],
    });
    expect(contact(1).PHONE).toEqual([{ ID: added!.ID, VALUE_TYPE: "MOBILE", VALUE: "+49 170 2", TYPE_ID: "PHONE" }]);
  });
});

describe("multiple fields in the history", () => {
  it("a phone edited in the portal is one PHONE change with its type, and a revert puts it back", async () => {
    const before = (contact(3).PHONE as Record<string, string>[])[0]!;
    expect(before).toMatchObject({ ID: "30", VALUE_TYPE: "WORK" });
    await edit(3, { PHONE: [{ ID: "30", VALUE: "+49 30 2" }] });
    await settle();
    const { items, rows } = await changesOf(3, "PHONE");
    expect(items.map((c) => [c.oldValue, c.newValue])).toEqual([
      [[{ VALUE_TYPE: "WORK", VALUE: before.VALUE, ID: "30" }], [{ VALUE_TYPE: "WORK", VALUE: "+49 30 2", ID: "30" }]],
    ]);
    expect(rows).toMatchObject([
      {
        field: "Phone",
        oldValue: `${before.VALUE} (WORK)`,
        newValue: `phone ${before.VALUE} → +49 30 2 (WORK)`,
        who: "Boris Manager",
        revertible: true,
      },
    ]);

    expect(await revertChange(portalId, items[0]!.id, { userId: 1, session: admin })).toEqual({ status: "done" });
    expect(contact(3).PHONE).toEqual([before]); // the same item, its value written back by ID
    await settle(); // the revert's echo arrives and diffs to nothing
    const after = await changesOf(3, "PHONE");
    expect(after.items.map((c) => c.source)).toEqual(["revert", "event"]);
    expect(after.rows[0]).toMatchObject({ newValue: `phone +49 30 2 → ${before.VALUE} (WORK)`, who: "Anna Admin" });
  });

  it("an added phone and a removed e-mail read as such, and their reverts remove and re-add them", async () => {
    const email = (contact(4).EMAIL as Record<string, string>[])[0]!;
    await edit(4, { PHONE: [{ VALUE_TYPE: "HOME", VALUE: "+49 30 1234" }], EMAIL: [{ ID: email.ID, VALUE: "" }] });
    await settle();
    const phone = await changesOf(4, "PHONE");
    const mail = await changesOf(4, "EMAIL");
    expect(phone.rows.map((r) => r.newValue)).toEqual(["+ phone +49 30 1234 (HOME)"]);
    expect(mail.rows.map((r) => [r.oldValue, r.newValue])).toEqual([
      [`${email.VALUE} (WORK)`, `− e-mail ${email.VALUE} (WORK)`],
    ]);

    await revertChange(portalId, phone.items[0]!.id, { userId: 1, session: admin });
    await revertChange(portalId, mail.items[0]!.id, { userId: 1, session: admin });
    expect((contact(4).PHONE as Record<string, string>[]).map((p) => p.VALUE)).toEqual(["+4930100004"]);
    expect(contact(4).EMAIL).toEqual([expect.objectContaining({ VALUE_TYPE: "WORK", VALUE: email.VALUE })]);
    await settle();
    expect((await changesOf(4, "PHONE")).items.map((c) => c.source)).toEqual(["revert", "event"]);
    expect((await changesOf(4, "EMAIL")).items.map((c) => c.source)).toEqual(["revert", "event"]);
  });

  it('changes stored before as "TYPE:VALUE" strings show as before and still revert', async () => {
    const current = (contact(5).PHONE as Record<string, string>[])[0]!;
    const legacy = await getDb().fieldChange.create({
      data: {
        portalId,
        entityType: "contact",
        entityId: 5,
        field: "PHONE",
        oldValue: ["WORK:+49 30 5"] as Prisma.InputJsonValue,
        newValue: [`WORK:${current.VALUE}`] as Prisma.InputJsonValue,
        changedById: 2,
        changedAt: new Date(),
        source: "event",
      },
    });
    const { rows } = await changesOf(5, "PHONE");
    expect(rows).toMatchObject([{ oldValue: "WORK:+49 30 5", newValue: `WORK:${current.VALUE}` }]);
    expect(await revertChange(portalId, legacy.id, { userId: 1, session: admin })).toEqual({ status: "done" });
    expect(contact(5).PHONE).toEqual([expect.objectContaining({ VALUE_TYPE: "WORK", VALUE: "+49 30 5" })]);
  });
});

describe("websites and messengers (WEB, IM) as Bitrix24 types them", () => {
  const lead = (id: number) => env.state().crm.lead.get(id)!;
  const editLead = (id: number, fields: Record<string, unknown>) =>
    env.control(`crm/lead/${id}`, { fields, userId: 2 });
  async function leadChanges(id: number, field: string) {
    const items = (await queryHistory(portalId, { entityType: "lead", entityId: id, field })).items;
    return { items, rows: await presentChanges(portalId, "lead", items, "en") };
  }

  it("a lead's added website and messenger, then a messenger's new value and a website removed, read item by item", async () => {
    // VALUE_TYPE values of a website (WORK, HOME, VK, …) and a messenger (TELEGRAM, SKYPE, …): crm/data-types.md
    await editLead(2, {
      WEB: [{ VALUE_TYPE: "WORK", VALUE: "https://example.com" }],
      IM: [{ VALUE_TYPE: "TELEGRAM", VALUE: "@lead2" }],
    });
    await settle();
    expect((await leadChanges(2, "WEB")).rows.map((r) => r.newValue)).toEqual(["+ website https://example.com (WORK)"]);
    expect((await leadChanges(2, "IM")).rows.map((r) => r.newValue)).toEqual(["+ messenger @lead2 (TELEGRAM)"]);

    const [web] = lead(2).WEB as Record<string, string>[];
    const [im] = lead(2).IM as Record<string, string>[];
    await editLead(2, { WEB: [{ ID: web!.ID, VALUE: "" }], IM: [{ ID: im!.ID, VALUE: "@lead2_new" }] });
    await settle();
    const webs = await leadChanges(2, "WEB");
    expect(webs.rows[0]).toMatchObject({
      field: "Website",
      oldValue: "https://example.com (WORK)",
      newValue: "− website https://example.com (WORK)",
    });
    expect(webs.items[0]!.newValue).toBeNull(); // no item left
    const ims = await leadChanges(2, "IM");
    expect(ims.rows[0]).toMatchObject({ field: "Messenger", newValue: "messenger @lead2 → @lead2_new (TELEGRAM)" });

    // the website's removal is undone: the item comes back with its type
    expect(await revertChange(portalId, webs.items[0]!.id, { userId: 1, session: admin })).toEqual({ status: "done" });
    expect(lead(2).WEB).toEqual([expect.objectContaining({ VALUE_TYPE: "WORK", VALUE: "https://example.com" })]);
  });
});
