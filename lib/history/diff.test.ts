import { describe, expect, it } from "vitest";
import { diffRecords, normalise } from "@/lib/history/diff";

const meta = {
  TITLE: { type: "string" }, OPPORTUNITY: { type: "double" }, UF_CRM_BUDGET: { type: "money" }, CLOSEDATE: { type: "date" },
  UF_CRM_MEETING: { type: "datetime" }, UF_CRM_VIP: { type: "boolean" }, UF_CRM_SOURCE: { type: "enumeration" },
  UF_CRM_TAGS: { type: "string", isMultiple: true }, UF_CRM_CONTRACT: { type: "file" }, COMPANY_ID: { type: "crm_company" },
  UF_CRM_PARTNER: { type: "crm" }, UF_CRM_CURATOR: { type: "employee" }, PHONE: { type: "crm_multifield", isMultiple: true }, UF_CRM_AMOUNT: { type: "integer" },
};
const d = (field: string, before: unknown, after: unknown) => diffRecords(meta, { [field]: before }, { [field]: after });

describe("diffRecords by field type", () => {
  it.each([
    ["TITLE", "Deal", "Deal", 0], ["TITLE", "Deal", "Deal 2", 1], ["TITLE", "", null, 0],
    ["OPPORTUNITY", "100.00", "100", 0], ["OPPORTUNITY", "100.00", "100.50", 1], ["UF_CRM_AMOUNT", "7", 7, 0],
    ["UF_CRM_BUDGET", "100|EUR", "100.00|EUR", 0], ["UF_CRM_BUDGET", "100|EUR", "100|USD", 1],
    ["CLOSEDATE", "2026-12-31", "2026-12-31T00:00:00+03:00", 0], ["CLOSEDATE", "2026-12-31", "2027-01-01", 1],
    ["UF_CRM_MEETING", "2026-01-01T12:00:00+03:00", "2026-01-01T09:00:00+00:00", 0], ["UF_CRM_MEETING", "2026-01-01T12:00:00+03:00", "2026-01-01T12:00:00+00:00", 1],
    ["UF_CRM_VIP", "Y", "1", 0], ["UF_CRM_VIP", "0", "N", 0], ["UF_CRM_VIP", "N", "Y", 1],
    ["UF_CRM_SOURCE", "41", "41", 0], ["UF_CRM_SOURCE", "41", "42", 1],
    ["UF_CRM_TAGS", ["a", "b"], ["b", "a"], 0], ["UF_CRM_TAGS", ["a"], { 0: "a" }, 0], ["UF_CRM_TAGS", ["a"], ["a", "c"], 1], ["UF_CRM_TAGS", [], null, 0],
    ["UF_CRM_CONTRACT", { id: 12, name: "a.pdf" }, { id: 12, name: "a.pdf", downloadUrl: "x" }, 0], ["UF_CRM_CONTRACT", { id: 12 }, { id: 13 }, 1],
    ["COMPANY_ID", "4", "4", 0], ["COMPANY_ID", "4", "5", 1], ["UF_CRM_PARTNER", "CO_4", "CO_5", 1],
    ["UF_CRM_CURATOR", "3", 3, 0], ["UF_CRM_CURATOR", "3", "4", 1],
    ["PHONE", [{ ID: "1", VALUE: "+1", VALUE_TYPE: "WORK" }], [{ ID: "9", VALUE: "+1", VALUE_TYPE: "WORK" }], 0],
    ["PHONE", [{ VALUE: "+1", VALUE_TYPE: "WORK" }], [{ VALUE: "+2", VALUE_TYPE: "WORK" }], 1],
  ])("%s: %j → %j is %i change(s)", (field, before, after, n) => {
    expect(d(field, before, after)).toHaveLength(n);
  });

  it("ignores bookkeeping fields and fields not fetched", () => {
    expect(diffRecords(meta, { DATE_MODIFY: "a", MODIFY_BY_ID: "1", TITLE: "x" }, { DATE_MODIFY: "b", MODIFY_BY_ID: "2" })).toEqual([]);
  });

  it("reports normalised old and new values", () => {
    expect(d("OPPORTUNITY", "100.00", "250.5")).toEqual([{ field: "OPPORTUNITY", oldValue: 100, newValue: 250.5 }]);
    expect(normalise({ type: "string", isMultiple: true }, ["b", "a"])).toEqual(["a", "b"]);
  });
});
