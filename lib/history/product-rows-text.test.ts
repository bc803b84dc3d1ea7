import { describe, expect, it } from "vitest";
import { productRowsText } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

const row = (over: Record<string, unknown> = {}) => ({
  id: 1,
  productId: 101,
  productName: "Widget",
  price: 10,
  quantity: 2,
  discountRate: 0,
  discountSum: 0,
  taxRate: null,
  measure: "pcs",
  ...over,
});

describe("product rows as a CRM user reads them", () => {
  it("names what changed in a row: price, discount, tax, unit, product", () => {
    const out = productRowsText(
      dict("en"),
      [row()],
      [row({ price: 12, discountRate: 5, taxRate: 20, measure: "h", productName: "Widget Pro" })],
    );
    expect(out).toEqual({
      oldValue: "Widget × 2 at 10.00",
      newValue: "Widget: product Widget → Widget Pro, price 10.00 → 12.00, discount 0% → 5%, tax — → 20%, unit pcs → h",
    });
  });

  it("lists added and removed rows, in Russian too; no rows read as —", () => {
    const out = productRowsText(dict("ru"), null, [row({ id: 2, productName: "", productId: 7, quantity: 1.5 })]);
    expect(out).toEqual({ oldValue: "—", newValue: "+ #7 × 1.5 по 10.00" });
    expect(productRowsText(dict("en"), [row()], null).newValue).toBe("− Widget");
  });
});
