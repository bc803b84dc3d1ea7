import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ufCamelName } from "./items-model";
import { startInstalled, startWithRecorder } from "./support";

// The universal CRM methods, smart processes, product rows and stage history of the fake, against the shapes of
// b24restdocs api-reference/crm/universal/*, crm/crm-stage-history-list.md and the event pages (docs/fake-portal.md).

let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeEach(async () => ({ f, admin } = await startInstalled()));
afterEach(() => f.stop());

type R = Record<string, unknown>;
const ok = async (method: string, params: R, token = admin) => {
  const res = await f.rest(method, params, token);
  if (res.status !== 200) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
  return res.body as { result: R; total?: number; next?: number };
};
const handler = () => `${f.app.url}/api/bitrix/events`;
const eventsNamed = (name: string) => f.app.received.filter((r) => r.body.event === name);
const bind = (...events: string[]) =>
  Promise.all(events.map((event) => ok("event.bind", { event, handler: handler() })));

describe("crm.item.* over the legacy records", () => {
  it("a deal is the same record in both shapes: camelCase, numbers, {item}; entityTypeId at the end", async () => {
    const legacy = (await ok("crm.deal.get", { id: 7 })).result;
    const { item } = (await ok("crm.item.get", { entityTypeId: 2, id: 7 })).result as { item: R };
    expect(item).toMatchObject({
      id: 7,
      title: legacy.TITLE,
      stageId: legacy.STAGE_ID,
      categoryId: Number(legacy.CATEGORY_ID),
      assignedById: Number(legacy.ASSIGNED_BY_ID),
      updatedTime: legacy.DATE_MODIFY,
      updatedBy: Number(legacy.MODIFY_BY_ID),
      createdTime: legacy.DATE_CREATE,
      opportunity: Number(legacy.OPPORTUNITY),
      currencyId: "EUR",
      ufCrmText: legacy.UF_CRM_TEXT,
      closedate: "2026-12-31T00:00:00+03:00",
      entityTypeId: 2,
    });
    expect(item.ufCrmVip).toMatch(/^[YN]$/);
    await ok("crm.item.update", {
      entityTypeId: 2,
      id: 7,
      fields: { title: "Via item", opportunity: 1234.5, ufCrmVip: "Y" },
    });
    expect((await ok("crm.deal.get", { id: 7 })).result).toMatchObject({
      TITLE: "Via item",
      OPPORTUNITY: "1234.50",
      UF_CRM_VIP: "1",
    });
  });

  it("crm.item.fields: camelCase keys with upperName; useOriginalUfNames=Y gives UF_CRM_… keys", async () => {
    const { fields } = (await ok("crm.item.fields", { entityTypeId: 2 })).result as { fields: Record<string, R> };
    expect(fields.updatedTime).toMatchObject({ type: "datetime", upperName: "UPDATED_TIME" });
    expect(fields.stageId).toMatchObject({ type: "crm_status", statusType: "DEAL_STAGE", upperName: "STAGE_ID" });
    expect(fields.ufCrmText).toMatchObject({ upperName: "UF_CRM_TEXT", isDynamic: true });
    const lead = (await ok("crm.item.fields", { entityTypeId: 1 })).result.fields as Record<string, R>;
    expect(lead.stageId).toMatchObject({ statusType: "STATUS" }); // a lead's STATUS_ID
    const original = (await ok("crm.item.fields", { entityTypeId: 2, useOriginalUfNames: "Y" })).result.fields as R;
    expect(Object.keys(original)).toContain("UF_CRM_TEXT");
    expect(Object.keys(original)).not.toContain("ufCrmText");
  });

  it("custom field names follow the docs' conversion table", () => {
    expect(
      ["UF_CRM_3_DIGIT", "UF_CRM_3_1747309727", "UF_CRM_3_DIGIT10", "UF_CRM_3_DIGIT_10", "UF_CRM_1747309879"].map(
        ufCamelName,
      ),
    ).toEqual(["ufCrm3Digit", "ufCrm3_1747309727", "ufCrm_3_DIGIT10", "ufCrm_3_DIGIT_10", "ufCrm_1747309879"]);
  });

  it("crm.item.list: {items}, total/next, >id with start -1, @id, >=updatedTime, select, order", async () => {
    const first = await ok("crm.item.list", { entityTypeId: 2, select: ["id", "title"] });
    expect(first.total).toBe(120);
    expect(first.next).toBe(50);
    const items = first.result.items as R[];
    expect(items).toHaveLength(50);
    expect(Object.keys(items[0]!)).toEqual(["id", "title"]);
    const cursor = await ok("crm.item.list", {
      entityTypeId: 2,
      order: { id: "ASC" },
      filter: { ">id": 100 },
      select: ["id"],
      start: -1,
    });
    expect((cursor.result.items as R[]).map((x) => x.id)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
    const some = await ok("crm.item.list", { entityTypeId: 2, filter: { "@id": [3, 5, 9] }, order: { id: "DESC" } });
    expect((some.result.items as R[]).map((x) => x.id)).toEqual([9, 5, 3]);
    await f.control("clock", { advance: 60 });
    const mark = (await ok("server.time", {})).result as unknown as string;
    await f.control("crm/deal/11", { fields: { TITLE: "Later" } });
    const since = await ok("crm.item.list", {
      entityTypeId: 2,
      filter: { ">=updatedTime": mark },
      select: ["id", "updatedTime"],
    });
    expect((since.result.items as R[]).map((x) => x.id)).toEqual([11]);
    const bad = await f.rest("crm.item.list", { entityTypeId: 2, filter: { nope: 1 } }, admin);
    expect(bad.body).toMatchObject({ error: "INVALID_ARG_VALUE" });
  });

  it('a contact\'s fm arrives only with no select or select ["*"] (object-fields.md#select)', async () => {
    const fmOf = async (select?: string[]) => {
      const res = await ok("crm.item.list", { entityTypeId: 3, filter: { "@id": [1] }, ...(select ? { select } : {}) });
      return (res.result.items as R[])[0]!.fm;
    };
    expect(Array.isArray(await fmOf())).toBe(true);
    expect(Array.isArray(await fmOf(["*"]))).toBe(true);
    expect(await fmOf(["*", "uf*"])).toBeUndefined();
    expect(await fmOf(["id", "fm"])).toBeUndefined();
  });

  it("unknown types are NOT_FOUND, old invoices ENTITY_TYPE_NOT_SUPPORTED, a missing item NOT_FOUND", async () => {
    expect((await f.rest("crm.item.list", { entityTypeId: 999 }, admin)).body).toMatchObject({ error: "NOT_FOUND" });
    expect((await f.rest("crm.item.get", { entityTypeId: 5, id: 1 }, admin)).body).toMatchObject({
      error: "ENTITY_TYPE_NOT_SUPPORTED",
    });
    const missing = await f.rest("crm.item.get", { entityTypeId: 2, id: 9999 }, admin);
    expect([missing.status, missing.body.error]).toEqual([400, "NOT_FOUND"]);
  });
});

describe("quotes, new invoices and smart processes", () => {
  it("crm.type.list: the Projects type (admins only); crm.item.* serves its items, custom fields", async () => {
    const types = (await ok("crm.type.list", {})).result.types as R[];
    expect(types).toEqual([
      expect.objectContaining({ id: 1, title: "Projects", entityTypeId: 128, isCategoriesEnabled: "Y" }),
    ]);
    expect((await f.rest("crm.type.list", {}, (await f.frame(2)).AUTH_ID!)).body).toMatchObject({
      error: "ACCESS_DENIED",
    });
    const { item } = (await ok("crm.item.get", { entityTypeId: 128, id: 1 })).result as { item: R };
    expect(item).toMatchObject({
      id: 1,
      title: "Website relaunch",
      categoryId: 3,
      ufCrm1_1700000000: "PRJ-1",
      ufCrm1Budget: 5000,
      ufCrm_1_PHASE2: "N",
      entityTypeId: 128,
    });
    expect(String(item.stageId)).toMatch(/^DT128_3:/);
    const original = (await ok("crm.item.get", { entityTypeId: 128, id: 1, useOriginalUfNames: "Y" })).result.item as R;
    expect(original).toMatchObject({ UF_CRM_1_1700000000: "PRJ-1", UF_CRM_1_BUDGET: 5000 });
    for (const t of [7, 31])
      expect(((await ok("crm.item.list", { entityTypeId: t })).result.items as R[]).length).toBe(4);
    expect((await ok("crm.item.get", { entityTypeId: 31, id: 1 })).result.item).toMatchObject({
      ufCrm_SMART_INVOICE_1700000001: "PO-100",
    });
  });

  it("ONCRMDYNAMICITEM* with ID, ENTITY_TYPE_ID (SPA also _128; invoices too), ONCRMQUOTE* with ID", async () => {
    await bind(
      "ONCRMDYNAMICITEMADD",
      "ONCRMDYNAMICITEMUPDATE",
      "ONCRMDYNAMICITEMUPDATE_128",
      "ONCRMDYNAMICITEMDELETE",
      "ONCRMQUOTEUPDATE",
      "ONCRMDEALUPDATE",
    );
    const added = (await ok("crm.item.add", { entityTypeId: 128, fields: { title: "New project" } })).result.item as R;
    await ok("crm.item.update", { entityTypeId: 128, id: added.id, fields: { title: "Renamed" } });
    await ok("crm.item.update", { entityTypeId: 31, id: 2, fields: { title: "Inv" } });
    await ok("crm.item.update", { entityTypeId: 7, id: 3, fields: { title: "Q" } });
    await ok("crm.item.delete", { entityTypeId: 128, id: added.id });
    await f.waitFor(
      () => eventsNamed("ONCRMDYNAMICITEMDELETE").length === 1 && eventsNamed("ONCRMQUOTEUPDATE").length === 1,
    );
    const data = (name: string) => eventsNamed(name).map((e) => e.body.data);
    const fields = (id: unknown, t: number) => ({ FIELDS: { ID: String(id), ENTITY_TYPE_ID: String(t) } });
    expect(data("ONCRMDYNAMICITEMADD")).toEqual([fields(added.id, 128)]);
    expect(data("ONCRMDYNAMICITEMUPDATE")).toEqual([fields(added.id, 128), fields(2, 31)]);
    expect(data("ONCRMDYNAMICITEMUPDATE_128")).toEqual([fields(added.id, 128)]);
    expect(data("ONCRMQUOTEUPDATE")).toEqual([{ FIELDS: { ID: "3" } }]);
    expect(data("ONCRMDYNAMICITEMDELETE")).toEqual([fields(added.id, 128)]);
    expect(eventsNamed("ONCRMDEALUPDATE")).toEqual([]); // item writes of other types never raise the deal's event
  });

  it("offline: item 1 of two types are two queue rows (MESSAGE_ID from the event's data)", async () => {
    await ok("event.bind", { event: "ONCRMDYNAMICITEMUPDATE", event_type: "offline" });
    await ok("crm.item.update", { entityTypeId: 128, id: 1, fields: { title: "a" } });
    await ok("crm.item.update", { entityTypeId: 31, id: 1, fields: { title: "b" } });
    await ok("crm.item.update", { entityTypeId: 128, id: 1, fields: { title: "c" } });
    const { events } = (await ok("event.offline.get", { clear: 0 })).result as { events: R[] };
    expect(events.map((e) => e.EVENT_DATA)).toEqual([
      { FIELDS: { ID: "1", ENTITY_TYPE_ID: "31" } },
      { FIELDS: { ID: "1", ENTITY_TYPE_ID: "128" } },
    ]);
  });

  it("POST /_fake/crm-types adds, renames and deletes a type with ONCRMTYPE* carrying the type's id", async () => {
    await bind("ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE");
    const added = (await f.control("crm-types", { action: "add", title: "Contracts" })) as R;
    expect(added).toMatchObject({ id: 2, entityTypeId: 130 });
    await ok("crm.item.add", { entityTypeId: 130, fields: { title: "C-1" } });
    expect(((await ok("crm.item.list", { entityTypeId: 130 })).result.items as R[]).map((x) => x.title)).toEqual([
      "C-1",
    ]);
    expect((await ok("placement.list", {})).result).toEqual(
      expect.arrayContaining([
        "CRM_DYNAMIC_130_DETAIL_TAB",
        "CRM_DYNAMIC_128_DETAIL_TAB",
        "CRM_QUOTE_DETAIL_TAB",
        "CRM_SMART_INVOICE_DETAIL_TAB",
      ]),
    );
    await f.control("crm-types", { action: "update", id: 2, title: "Agreements" });
    await f.control("crm-types", { action: "delete", id: 2 });
    await f.waitFor(() => eventsNamed("ONCRMTYPEDELETE").length === 1);
    for (const e of ["ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE"])
      expect(eventsNamed(e)[0]!.body.data).toEqual({ FIELDS: { ID: "2" } });
    expect((await f.rest("crm.item.list", { entityTypeId: 130 }, admin)).body).toMatchObject({ error: "NOT_FOUND" });
  });

  it("crm.category.list names the funnels of SPAs and invoices; crm.status.list their stages", async () => {
    const cats = (await ok("crm.category.list", { entityTypeId: 128 })).result.categories as R[];
    expect(cats.map((c) => [c.id, c.isDefault])).toEqual([
      [3, "Y"],
      [4, "N"],
    ]);
    const stages = (await ok("crm.status.list", { filter: { ENTITY_ID: "DYNAMIC_128_STAGE_3" } }))
      .result as unknown as R[];
    expect(stages.map((s) => s.STATUS_ID)).toEqual([
      "DT128_3:NEW",
      "DT128_3:PREPARATION",
      "DT128_3:SUCCESS",
      "DT128_3:FAIL",
    ]);
  });
});

describe("deals moving funnels, stage history", () => {
  it("crm.item.update of categoryId raises ONCRMDEALMOVETOCATEGORY (not UPDATE), records a funnel change", async () => {
    await bind("ONCRMDEALMOVETOCATEGORY", "ONCRMDEALUPDATE");
    await ok("crm.item.update", { entityTypeId: 2, id: 7, fields: { categoryId: 1 } });
    await ok("crm.item.update", { entityTypeId: 2, id: 8, fields: { title: "just a rename" } });
    await f.waitFor(() => eventsNamed("ONCRMDEALUPDATE").length === 1);
    expect(eventsNamed("ONCRMDEALMOVETOCATEGORY").map((e) => e.body.data)).toEqual([
      { FIELDS: { ID: "7", CATEGORY_ID: "1", STAGE_ID: "C1:NEW" } },
    ]);
    expect(eventsNamed("ONCRMDEALUPDATE").map((e) => e.body.data)).toEqual([{ FIELDS: { ID: "8" } }]);
    const { items } = (
      await ok("crm.stagehistory.list", { entityTypeId: 2, filter: { OWNER_ID: 7 }, order: { ID: "DESC" } })
    ).result as { items: R[] };
    expect(items[0]).toMatchObject({
      TYPE_ID: 5,
      OWNER_ID: 7,
      CATEGORY_ID: 1,
      STAGE_ID: "C1:NEW",
      STAGE_SEMANTIC_ID: "P",
    });
  });

  it("stage history: seeded before the install, fed by every move (UI, REST, items), leads with STATUS_*", async () => {
    const seeded = await ok("crm.stagehistory.list", { entityTypeId: 2, filter: { OWNER_ID: 3 } });
    const rows = seeded.result.items as R[];
    expect(rows[0]).toMatchObject({ TYPE_ID: 1, OWNER_ID: 3 });
    expect(String(rows[0]!.CREATED_TIME) < "2026-01-01").toBe(true);
    await f.control("crm/deal/3", { fields: { STAGE_ID: "WON" } });
    await ok("crm.deal.update", { id: 3, fields: { STAGE_ID: "PREPARATION" } });
    await ok("crm.lead.update", { id: 2, fields: { STATUS_ID: "JUNK" } });
    await ok("crm.item.update", { entityTypeId: 128, id: 2, fields: { stageId: "DT128_3:SUCCESS" } });
    const after = (await ok("crm.stagehistory.list", { entityTypeId: 2, filter: { OWNER_ID: 3 } })).result.items as R[];
    expect(after.slice(-2).map((r) => [r.TYPE_ID, r.STAGE_ID, r.STAGE_SEMANTIC_ID])).toEqual([
      [3, "WON", "S"],
      [2, "PREPARATION", "P"],
    ]);
    const lead = (await ok("crm.stagehistory.list", { entityTypeId: 1, filter: { OWNER_ID: 2 } })).result.items as R[];
    expect(lead.at(-1)).toEqual({
      ID: expect.any(Number),
      TYPE_ID: 3,
      OWNER_ID: 2,
      CREATED_TIME: expect.any(String),
      STATUS_SEMANTIC_ID: "F",
      STATUS_ID: "JUNK",
    });
    const spa = (await ok("crm.stagehistory.list", { entityTypeId: 128, filter: { OWNER_ID: 2 } })).result.items as R[];
    expect(spa.at(-1)).toMatchObject({
      TYPE_ID: 3,
      CATEGORY_ID: 3,
      STAGE_ID: "DT128_3:SUCCESS",
      STAGE_SEMANTIC_ID: "S",
    });
    expect((await f.rest("crm.stagehistory.list", { entityTypeId: 3 }, admin)).body).toMatchObject({
      error: "ENTITY_TYPE_NOT_SUPPORTED",
    });
  });
});

describe("product rows", () => {
  it("list by =ownerType/=ownerId (D, Q, SI, T80); a row change updates the owner + its UPDATE event", async () => {
    await bind("ONCRMDEALUPDATE", "ONCRMDYNAMICITEMUPDATE");
    const rows = (owner: string, id: number) =>
      ok("crm.item.productrow.list", { filter: { "=ownerType": owner, "=ownerId": id } });
    const deal = await rows("D", 1);
    expect(deal.total).toBe(2);
    const first = (deal.result.productRows as R[])[0]!;
    expect(first).toMatchObject({
      ownerId: 1,
      ownerType: "D",
      productName: "Consulting hour",
      price: 120,
      quantity: 1,
    });
    for (const [owner, n] of [
      ["Q", 3],
      ["SI", 3],
      ["T80", 3],
    ] as const)
      expect((await rows(owner, 1)).total).toBe(n);
    expect(
      (await f.rest("crm.item.productrow.list", { filter: { "=ownerType": "C", "=ownerId": 1 } }, admin)).body,
    ).toMatchObject({ error: "ENTITY_TYPE_NOT_SUPPORTED" });
    const was = (await ok("crm.deal.get", { id: 1 })).result;
    await f.control("clock", { advance: 120 });
    const updated = await ok("crm.item.productrow.update", { id: first.id, fields: { quantity: 5 } });
    expect(updated.result.productRow).toMatchObject({ id: first.id, quantity: 5 });
    const deal1 = (await ok("crm.deal.get", { id: 1 })).result;
    expect(Date.parse(String(deal1.DATE_MODIFY)) - Date.parse(String(was.DATE_MODIFY))).toBeGreaterThan(120_000);
    expect(deal1.MODIFY_BY_ID).toBe("1");
    await ok("crm.item.productrow.set", {
      ownerType: "T80",
      ownerId: 1,
      productRows: [{ productName: "Only row", price: 10, quantity: 2 }],
    });
    expect(((await rows("T80", 1)).result.productRows as R[]).map((r) => [r.productName, r.quantity])).toEqual([
      ["Only row", 2],
    ]);
    await f.waitFor(
      () => eventsNamed("ONCRMDEALUPDATE").length === 1 && eventsNamed("ONCRMDYNAMICITEMUPDATE").length === 1,
    );
    expect(eventsNamed("ONCRMDEALUPDATE")[0]!.body.data).toEqual({ FIELDS: { ID: "1" } });
    expect(eventsNamed("ONCRMDYNAMICITEMUPDATE")[0]!.body.data).toEqual({ FIELDS: { ID: "1", ENTITY_TYPE_ID: "128" } });
  });

  it("add and delete answer as documented (productRow, then null)", async () => {
    const added = (
      await ok("crm.item.productrow.add", { fields: { ownerType: "D", ownerId: 4, productName: "Extra", price: 5 } })
    ).result.productRow as R;
    expect(added).toMatchObject({ ownerType: "D", ownerId: 4, productName: "Extra", price: 5, quantity: 1 });
    expect((await ok("crm.item.productrow.delete", { id: added.id })).result).toBeNull();
    expect(
      (await f.rest("crm.item.productrow.add", { fields: { ownerType: "D", ownerId: 9999 } }, admin)).body,
    ).toMatchObject({ error: "OWNER_NOT_FOUND" });
  });
});

describe("the portal's UI", () => {
  const page = async (path: string, form?: Record<string, string>) => {
    const res = await fetch(`${f.portal.baseUrl}${path}`, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  };

  it("cards show the bound tabs of SPAs, quotes, invoices; their forms edit, move, change quantities", async () => {
    for (const placement of ["CRM_DYNAMIC_128_DETAIL_TAB", "CRM_QUOTE_DETAIL_TAB", "CRM_SMART_INVOICE_DETAIL_TAB"]) {
      await ok("placement.bind", { PLACEMENT: placement, HANDLER: `${f.app.url}/tab`, TITLE: "History" });
    }
    for (const [t, placement] of [
      [128, "CRM_DYNAMIC_128_DETAIL_TAB"],
      [7, "CRM_QUOTE_DETAIL_TAB"],
      [31, "CRM_SMART_INVOICE_DETAIL_TAB"],
    ] as const) {
      const card = await page(`/crm/type/${t}/details/1/?tab=0`);
      expect(card.text).toContain(`name="PLACEMENT" value="${placement}"`);
      expect(card.text).toContain("PLACEMENT_OPTIONS");
    }
    await bind("ONCRMDYNAMICITEMUPDATE", "ONCRMDEALMOVETOCATEGORY", "ONCRMDEALUPDATE");
    expect((await page("/crm/type/128/details/2/", { "fields[title]": "Edited in the card" })).status).toBe(303);
    expect((await ok("crm.item.get", { entityTypeId: 128, id: 2 })).result.item).toMatchObject({
      title: "Edited in the card",
    });
    await page("/crm/deal/details/5/move/", { categoryId: "1" });
    expect((await ok("crm.deal.get", { id: 5 })).result).toMatchObject({ CATEGORY_ID: "1", STAGE_ID: "C1:NEW" });
    const deal2 = await page("/crm/deal/details/2/");
    const rowId = /action="\/crm\/productrow\/(\d+)\/"/.exec(deal2.text)![1];
    const moved = await page(`/crm/productrow/${rowId}/`, { quantity: "7", back: "/crm/deal/details/2/" });
    expect(moved.location).toBe("/crm/deal/details/2/");
    expect((await ok("crm.item.productrow.get", { id: Number(rowId) })).result.productRow).toMatchObject({
      quantity: 7,
    });
    await f.waitFor(
      () => eventsNamed("ONCRMDEALUPDATE").length === 1 && eventsNamed("ONCRMDEALMOVETOCATEGORY").length === 1,
    );
    expect(eventsNamed("ONCRMDEALUPDATE")[0]!.body.data).toEqual({ FIELDS: { ID: "2" } });
    expect(eventsNamed("ONCRMDYNAMICITEMUPDATE")[0]!.body.data).toEqual({ FIELDS: { ID: "2", ENTITY_TYPE_ID: "128" } });
  });
});
