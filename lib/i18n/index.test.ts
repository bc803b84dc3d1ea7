import { describe, expect, it } from "vitest";
import { dict, DICTS } from "@/lib/i18n";

describe("i18n", () => {
  it("has every English string in Russian", () => {
    expect(Object.keys(DICTS.ru!).sort()).toEqual(Object.keys(DICTS.en!).sort());
    expect(Object.values(DICTS.ru!).every((v) => v.length > 0)).toBe(true);
  });
  it("falls back to English for other languages", () => {
    expect(dict("de").history).toBe("Change history");
    expect(dict("ru").history).toBe("История изменений");
    expect(dict(undefined).history).toBe("Change history");
  });
});
