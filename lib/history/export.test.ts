import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "@/lib/history/export";

/** A line's fields as a spreadsheet splitting on `sep` before looking at quotes reads them (Excel, `;` locales). */
const naiveFields = (line: string, sep: string) => line.split(sep).map((f) => f.replace(/^["\s]+/, ""));
const runs = (field: string) => /^[=+\-@\t\r]/.test(field);
const HOSTILE = [
  "x;=1+1",
  "x,=1+1",
  "=1+1",
  "a; =cmd|' /C calc'!A0",
  'a;"=1+1"',
  "a;+1",
  "a;-1",
  "a;@SUM(1)",
  "a,\t=1",
  "@x",
];

describe("csvCell", () => {
  it("quotes every cell, so a `,` or `;` inside a value never splits it for an RFC 4180 reader", () => {
    for (const v of ["plain", "", "a,b", "a;b", "1 000", "line\r\nbreak"]) expect(csvCell(v)).toMatch(/^".*"$/s);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
  });

  it.each(HOSTILE)("%j cannot start a formula at the cell start or after a `;` or `,`", (v) => {
    const cell = csvCell(v);
    for (const sep of [";", ","]) expect(naiveFields(cell, sep).filter(runs), `${cell} split on ${sep}`).toEqual([]);
  });

  it("neutralizes with a leading ' and keeps the rest of the value", () => {
    expect(csvCell("x;=1+1")).toBe(`"x;'=1+1"`);
    expect(csvCell("=1+1")).toBe(`"'=1+1"`);
    expect(csvCell("a; =1")).toBe(`"a; '=1"`);
    expect(csvCell("Ivanov; Petrov")).toBe(`"Ivanov; Petrov"`);
  });

  it("a whole file read by a `;`-separated spreadsheet has no formula in any field", () => {
    const csv = toCsv(
      ["When", "Field"],
      HOSTILE.map((v) => ["2026-01-01", v]),
    );
    const fields = csv.split("\r\n").flatMap((line) => [...naiveFields(line, ";"), ...naiveFields(line, ",")]);
    expect(fields.filter(runs)).toEqual([]);
  });
});
