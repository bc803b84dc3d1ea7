import { describe, expect, it } from "vitest";
import {
  detailTabOf,
  entityTypeIdOf,
  isEntityKey,
  itemTypeOfEvent,
  keyOfEntityTypeId,
  parsePlacement,
  productRowOwnerOf,
  updateEventsOf,
} from "./entity-types";

// The one table of CRM types (key ↔ entityTypeId ↔ events ↔ tab ↔ product-row owner), against the codes of
// b24restdocs crm/universal/index.md, crm/data-types.md#crm_item_product_row and widgets/crm/detail-tab.md.
describe("CRM entity types", () => {
  it("maps keys and entityTypeIds both ways; smart processes start at 128", () => {
    expect(["lead", "deal", "contact", "company", "quote", "smart_invoice", "dynamic_128"].map(entityTypeIdOf)).toEqual(
      [1, 2, 3, 4, 7, 31, 128],
    );
    expect([1, 2, 7, 31, 130, 5, 127].map(keyOfEntityTypeId)).toEqual([
      "lead",
      "deal",
      "quote",
      "smart_invoice",
      "dynamic_130",
      undefined,
      undefined,
    ]);
    expect(["dynamic_128", "quote", "deal"].every(isEntityKey)).toBe(true);
    expect(["dynamic_5", "dynamic_", "invoice", "DEAL", "dynamic_128x"].some(isEntityKey)).toBe(false);
  });

  it("names each type's tab and reads the type back from a placement code", () => {
    expect(["deal", "quote", "smart_invoice", "dynamic_130"].map((k) => detailTabOf(k as "deal"))).toEqual([
      "CRM_DEAL_DETAIL_TAB",
      "CRM_QUOTE_DETAIL_TAB",
      "CRM_SMART_INVOICE_DETAIL_TAB",
      "CRM_DYNAMIC_130_DETAIL_TAB",
    ]);
    expect(parsePlacement("CRM_DYNAMIC_128_DETAIL_TAB")).toEqual({ key: "dynamic_128", kind: "DETAIL_TAB" });
    expect(parsePlacement("CRM_SMART_INVOICE_DETAIL_TAB")).toEqual({ key: "smart_invoice", kind: "DETAIL_TAB" });
    expect(parsePlacement("CRM_DEAL_DETAIL_TOOLBAR")).toEqual({ key: "deal", kind: "DETAIL_TOOLBAR" });
    expect(parsePlacement("CRM_DYNAMIC_12_DETAIL_TAB")).toBeNull();
    expect(parsePlacement("CRM_INVOICE_DETAIL_TAB")).toBeNull();
  });

  it("reads the item type from its event; product-row owners Q, SI, T<hex>", () => {
    expect(itemTypeOfEvent("ONCRMQUOTEUPDATE", { ID: "3" })).toBe("quote");
    expect(itemTypeOfEvent("ONCRMDYNAMICITEMUPDATE", { ID: "1", ENTITY_TYPE_ID: "31" })).toBe("smart_invoice");
    expect(itemTypeOfEvent("ONCRMDYNAMICITEMADD", { ID: "1", ENTITY_TYPE_ID: "128" })).toBe("dynamic_128");
    expect(itemTypeOfEvent("ONCRMDYNAMICITEMADD", { ID: "1", ENTITY_TYPE_ID: "2" })).toBeNull();
    expect(itemTypeOfEvent("ONCRMDYNAMICITEMADD", { ID: "1" })).toBeNull();
    expect(
      ["deal", "quote", "smart_invoice", "dynamic_128", "contact"].map((k) => productRowOwnerOf(k as "deal")),
    ).toEqual(["D", "Q", "SI", "T80", undefined]);
    expect(updateEventsOf("dynamic_130")).toEqual(["ONCRMDYNAMICITEMUPDATE"]);
    expect(updateEventsOf("deal")).toEqual(["ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY"]);
  });
});
