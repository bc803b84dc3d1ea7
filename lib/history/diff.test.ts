import { describe, expect, it } from "vitest";
import { diffMultiItems, diffProductRows, diffRecords, normalise, PRODUCTS_FIELD, sameValue } from "@/lib/history/diff";

const meta = {
  TITLE: { type: "string" },
  OPPORTUNITY: { type: "double" },
  UF_CRM_BUDGET: { type: "money" },
  CLOSEDATE: { type: "date" },
  UF_CRM_MEETING: { type: "datetime" },
  UF_CRM_VIP: { type: "boolean" },
  UF_CRM_SOURCE: { type: "enumeration" },
  UF_CRM_TAGS: { type: "string", isMultiple: true },
  UF_CRM_CONTRACT: { type: "file" },
  COMPANY_ID: { type: "crm_company" },
  UF_CRM_PARTNER: { type: "crm" },
  UF_CRM_CURATOR: { type: "employee" },
  PHONE: { type: "crm_multifield", isMultiple: true },
  UF_CRM_AMOUNT: { type: "integer" },
};
const d = (field: string, before: unknown, after: unknown) =>
  diffRecords(meta, { [field]: before }, { [field]: after });

describe("diffRecords by field type", () => {
  it.each([
    ["TITLE", "Deal", "Deal", 0],
    ["TITLE", "Deal", "Deal 2", 1],
    ["TITLE", "", null, 0],
    ["OPPORTUNITY", "100.00", "100", 0],
    ["OPPORTUNITY", "100.00", "100.50", 1],
    ["UF_CRM_AMOUNT", "7", 7, 0],
    ["UF_CRM_BUDGET", "100|EUR", "100.00|EUR", 0],
    ["UF_CRM_BUDGET", "100|EUR", "100|USD", 1],
    ["CLOSEDATE", "2026-12-31", "2026-12-31T00:00:00+03:00", 0],
    ["CLOSEDATE", "2026-12-31", "2027-01-01", 1],
    ["UF_CRM_MEETING", "2026-01-01T12:00:00+03:00", "2026-01-01T09:00:00+00:00", 0],
    ["UF_CRM_MEETING", "2026-01-01T12:00:00+03:00", "2026-01-01T12:00:00+00:00", 1],
    ["UF_CRM_VIP", "Y", "1", 0],
    ["UF_CRM_VIP", "0", "N", 0],
    ["UF_CRM_VIP", "N", "Y", 1],
    ["UF_CRM_SOURCE", "41", "41", 0],
    ["UF_CRM_SOURCE", "41", "42", 1],
    ["UF_CRM_TAGS", ["a", "b"], ["b", "a"], 0],
    ["UF_CRM_TAGS", ["a"], { 0: "a" }, 0],
    ["UF_CRM_TAGS", ["a"], ["a", "c"], 1],
    ["UF_CRM_TAGS", [], null, 0],
    ["UF_CRM_CONTRACT", { id: 12, name: "a.pdf" }, { id: 12, name: "a.pdf", downloadUrl: "x" }, 0],
    ["UF_CRM_CONTRACT", { id: 12 }, { id: 13 }, 1],
    ["COMPANY_ID", "4", "4", 0],
    ["COMPANY_ID", "4", "5", 1],
    ["UF_CRM_PARTNER", "CO_4", "CO_5", 1],
    ["UF_CRM_CURATOR", "3", 3, 0],
    ["UF_CRM_CURATOR", "3", "4", 1],
    ["PHONE", [{ ID: "1", VALUE: "+1", VALUE_TYPE: "WORK" }], [{ ID: "9", VALUE: "+1", VALUE_TYPE: "WORK" }], 0],
    ["PHONE", [{ VALUE: "+1", VALUE_TYPE: "WORK" }], [{ VALUE: "+2", VALUE_TYPE: "WORK" }], 1],
  ])("%s: %j → %j is %i change(s)", (field, before, after, n) => {
    expect(d(field, before, after)).toHaveLength(n);
  });

  it("ignores bookkeeping fields and fields not fetched", () => {
    expect(
      diffRecords(meta, { DATE_MODIFY: "a", MODIFY_BY_ID: "1", TITLE: "x" }, { DATE_MODIFY: "b", MODIFY_BY_ID: "2" }),
    ).toEqual([]);
  });

  it("reports normalised old and new values", () => {
    expect(d("OPPORTUNITY", "100.00", "250.5")).toEqual([{ field: "OPPORTUNITY", oldValue: 100, newValue: 250.5 }]);
    expect(normalise({ type: "string", isMultiple: true }, ["b", "a"])).toEqual(["a", "b"]);
  });
});

describe("multiple fields (PHONE, EMAIL, WEB, IM): item by item, with type and ID", () => {
  const phone = (ID: string | undefined, VALUE: string, VALUE_TYPE = "WORK") => ({
    ...(ID ? { ID } : {}),
    VALUE_TYPE,
    VALUE,
    TYPE_ID: "PHONE",
  });

  it("stores old and new items as {VALUE_TYPE, VALUE, ID}, in a stable order", () => {
    const before = [phone("2", "+49 30 2"), phone("1", "+49 30 1")];
    const after = [phone("1", "+49 30 1"), phone("2", "+49 30 9", "MOBILE")];
    expect(diffRecords(meta, { PHONE: before }, { PHONE: after })).toEqual([
      {
        field: "PHONE",
        oldValue: [
          { VALUE_TYPE: "WORK", VALUE: "+49 30 1", ID: "1" },
          { VALUE_TYPE: "WORK", VALUE: "+49 30 2", ID: "2" },
        ],
        newValue: [
          { VALUE_TYPE: "MOBILE", VALUE: "+49 30 9", ID: "2" },
          { VALUE_TYPE: "WORK", VALUE: "+49 30 1", ID: "1" },
        ],
      },
    ]);
    expect(normalise(meta.PHONE, { 0: phone("1", "+1") })).toEqual([{ VALUE_TYPE: "WORK", VALUE: "+1", ID: "1" }]);
    expect(normalise(meta.PHONE, [])).toBeNull();
  });

  it("pairs items by ID: a changed value or type is one change, not a removal and an addition", () => {
    expect(diffMultiItems([phone("1", "+1"), phone("2", "+2")], [phone("1", "+1"), phone("2", "+3", "HOME")])).toEqual({
      added: [],
      removed: [],
      changed: [
        { from: { VALUE_TYPE: "WORK", VALUE: "+2", ID: "2" }, to: { VALUE_TYPE: "HOME", VALUE: "+3", ID: "2" } },
      ],
    });
  });

  it("reads added and removed items, pairs the rest by value (a value saved again under a new ID is none)", () => {
    expect(diffMultiItems([phone("1", "+1"), phone("2", "+2")], [phone("9", "+1"), phone("3", "+4", "FAX")])).toEqual({
      added: [{ VALUE_TYPE: "FAX", VALUE: "+4", ID: "3" }],
      removed: [{ VALUE_TYPE: "WORK", VALUE: "+2", ID: "2" }],
      changed: [],
    });
    expect(diffMultiItems(null, [phone("3", "+4")]).added).toHaveLength(1);
  });

  it('reads the "TYPE:VALUE" strings of changes stored before, compared with items by type and value', () => {
    expect(normalise(meta.PHONE, ["WORK:+49:30"])).toEqual([{ VALUE_TYPE: "WORK", VALUE: "+49:30" }]);
    expect(sameValue(meta.PHONE, ["WORK:+1"], [phone("7", "+1")])).toBe(true);
    expect(sameValue(meta.PHONE, ["WORK:+1"], [phone("7", "+1", "HOME")])).toBe(false);
    expect(diffMultiItems(["WORK:+1", "HOME:+2"], ["WORK:+1"])).toEqual({
      added: [],
      removed: [{ VALUE_TYPE: "HOME", VALUE: "+2" }],
      changed: [],
    });
  });
});

describe("product rows (PRODUCTS_FIELD)", () => {
  const row = (id: number, quantity: number | string, price: number | string = 10) => ({
    id,
    productId: 100 + id,
    productName: `P${id}`,
    price,
    quantity,
    discountRate: 0,
    discountSum: 0,
    taxRate: null,
    measure: "pcs",
  });
  const rows = (before: unknown, after: unknown) =>
    diffRecords({}, { [PRODUCTS_FIELD]: before }, { [PRODUCTS_FIELD]: after });

  it("a quantity change is one change of the field, with the rows before and after", () => {
    const out = rows([row(1, 1), row(2, 2)], [row(2, 2), row(1, 3)]);
    expect(out).toEqual([
      { field: PRODUCTS_FIELD, oldValue: [row(1, 1), row(2, 2)], newValue: [row(1, 3), row(2, 2)] },
    ]);
    expect(diffProductRows(out[0]!.oldValue, out[0]!.newValue)).toEqual({
      added: [],
      removed: [],
      changed: [{ from: row(1, 1), to: row(1, 3), fields: ["quantity"] }],
    });
  });

  it("the same rows in another order or spelling are no change; an added and a removed row are", () => {
    expect(rows([row(1, "1.00", "10.0")], [row(1, 1, 10)])).toEqual([]);
    const out = rows([row(1, 1)], [row(2, 1)]);
    expect(diffProductRows(out[0]!.oldValue, out[0]!.newValue)).toMatchObject({
      added: [{ id: 2 }],
      removed: [{ id: 1 }],
      changed: [],
    });
    expect(rows([row(1, 1)], [])[0]).toMatchObject({ newValue: null });
  });

  it("a snapshot without rows (older than product rows) takes them as its baseline, not as rows added", () => {
    expect(diffRecords({}, { TITLE: "a" }, { TITLE: "a", [PRODUCTS_FIELD]: [row(1, 1)] })).toEqual([]);
  });
});

describe("a lead's address (LEAD_ADDRESS_KEYS, read from crm.address.list)", () => {
  const str = { type: "string" };
  it("a snapshot taken before the address was read takes it as its baseline; one that has it diffs it", () => {
    const meta = { ADDRESS_CITY: str, TITLE: str };
    expect(diffRecords(meta, { TITLE: "a" }, { TITLE: "a", ADDRESS_CITY: "Berlin" })).toEqual([]);
    expect(diffRecords(meta, { TITLE: "a", ADDRESS_CITY: null }, { TITLE: "a", ADDRESS_CITY: "Berlin" })).toEqual([
      { field: "ADDRESS_CITY", oldValue: null, newValue: "Berlin" },
    ]);
  });
});
