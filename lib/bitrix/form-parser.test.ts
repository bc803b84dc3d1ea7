import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBitrixForm, readBitrixForm, FORM_LIMITS } from "@/lib/bitrix/form-parser";

const EVENTS = path.resolve(import.meta.dirname, "../../tests/fixtures/events");

describe("parseBitrixForm", () => {
  const bodies = readdirSync(EVENTS).filter((f) => f.endsWith(".form.txt"));

  it.each(bodies)("decodes %s exactly as PHP parse_str does", (file) => {
    const raw = readFileSync(path.join(EVENTS, file), "utf8").trim();
    const expected = JSON.parse(
      readFileSync(path.join(EVENTS, file.replace(".form.txt", ".form.decoded.json")), "utf8"),
    );
    expect(JSON.parse(JSON.stringify(parseBitrixForm(raw)))).toEqual(expected);
  });

  it("keeps every leaf a string and drops nothing but empty keys", () => {
    expect(parseBitrixForm("a%5B0%5D=1&a%5B1%5D=2&b=&c%5Bd%5D%5Be%5D=x")).toEqual({
      a: { 0: "1", 1: "2" },
      b: "",
      c: { d: { e: "x" } },
    });
  });

  it.each([
    ["__proto__[polluted]=1", /Forbidden form key/],
    ["a[constructor][prototype][x]=1", /Forbidden form key/],
    ["a" + "[x]".repeat(FORM_LIMITS.maxDepth) + "=1", /nested too deeply/],
    ["a=%E0%A4%A", /percent-encoding/],
    ["a=1&a[b]=2", /both a value and an object/],
    ["a]b=1", /Malformed form key/],
  ])("refuses %s with a clear 400", (body, message) => {
    expect(() => parseBitrixForm(body)).toThrow(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("bounds the number of fields", () => {
    expect(() =>
      parseBitrixForm(Array.from({ length: FORM_LIMITS.maxKeys + 1 }, (_, i) => `k${i}=1`).join("&")),
    ).toThrow(/Too many/);
  });

  it("refuses wrong content types and invalid UTF-8 before parsing", async () => {
    const req = (body: BodyInit, type: string) =>
      new Request("http://x/", { method: "POST", body, headers: { "content-type": type } });
    await expect(readBitrixForm(req("{}", "application/json"))).rejects.toMatchObject({ status: 415 });
    await expect(
      readBitrixForm(req(new Uint8Array([0x61, 0x3d, 0xff]), "application/x-www-form-urlencoded")),
    ).rejects.toMatchObject({ status: 400 });
  });
});
