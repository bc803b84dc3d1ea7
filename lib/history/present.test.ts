import { describe, expect, it } from "vitest";
import { multifieldText, valueText } from "@/lib/history/present";

const item = (ID: string | undefined, VALUE: string, VALUE_TYPE = "WORK") => ({
  ...(ID ? { ID } : {}),
  VALUE_TYPE,
  VALUE,
});

describe("multiple fields as a CRM user reads them", () => {
  it("says what happened to each item: changed, added, removed, with its type", () => {
    const before = [item("1", "+49 30 1"), item("2", "a@b.de", "HOME")];
    const after = [item("1", "+49 30 2"), item("3", "+49 30 1234")];
    expect(multifieldText("phone", before, after)).toEqual({
      oldValue: "a@b.de (HOME), +49 30 1 (WORK)", // by type, then value: Bitrix24 returns them in any order
      newValue: "phone +49 30 1 → +49 30 2 (WORK); + phone +49 30 1234 (WORK); − phone a@b.de (HOME)",
    });
  });

  it("names both types when an item's type changed", () => {
    expect(multifieldText("phone", [item("1", "+1")], [item("1", "+2", "MOBILE")]).newValue).toBe(
      "phone +1 (WORK) → +2 (MOBILE)",
    );
  });

  it("reads a first item and a last one removed", () => {
    expect(multifieldText("e-mail", null, [item("5", "x@y.de")])).toEqual({
      oldValue: "—",
      newValue: "+ e-mail x@y.de (WORK)",
    });
    expect(multifieldText("e-mail", [item("5", "x@y.de")], null).newValue).toBe("− e-mail x@y.de (WORK)");
  });

  it('shows older changes\' "TYPE:VALUE" strings as they were, and an item as value (type)', () => {
    expect(valueText(["WORK:+1", "HOME:+2"])).toBe("WORK:+1, HOME:+2");
    expect(valueText([item("1", "+1")])).toBe("+1 (WORK)");
  });
});
