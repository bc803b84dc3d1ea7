import { describe, expect, it } from "vitest";
import { dict, DICTS, plural } from "@/lib/i18n";

/** Every string of a dictionary by its dotted path: a component's namespace ("exportButtons.csv") included. */
function strings(d: object, prefix = ""): [string, unknown][] {
  return Object.entries(d).flatMap(([k, v]) =>
    v !== null && typeof v === "object" ? strings(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

describe("i18n", () => {
  it("has every English string in Russian", () => {
    const ru = strings(DICTS.ru!);
    expect(ru.map(([k]) => k).sort()).toEqual(
      strings(DICTS.en!)
        .map(([k]) => k)
        .sort(),
    );
    expect(ru.every(([, v]) => typeof v === "string" && v.length > 0)).toBe(true);
  });
  it("falls back to English for other languages", () => {
    expect(dict("de").history).toBe("Change history");
    expect(dict("ru").history).toBe("История изменений");
    expect(dict(undefined).history).toBe("Change history");
  });
  it("counts in each language's plural forms", () => {
    const en = (n: number) => plural("en", n, DICTS.en!.changesCount);
    const ru = (n: number) => plural("ru", n, DICTS.ru!.changesCount);
    expect([en(0), en(1), en(2)]).toEqual(["changes", "change", "changes"]);
    expect([ru(1), ru(3), ru(5), ru(21), ru(11)]).toEqual([
      "изменение",
      "изменения",
      "изменений",
      "изменение",
      "изменений",
    ]);
  });
});
