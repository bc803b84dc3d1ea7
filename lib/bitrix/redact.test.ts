import { describe, expect, it } from "vitest";
import { REDACTED, redactAll } from "@/lib/bitrix/redact";

const token = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

describe("redactAll", () => {
  it("replaces values under secret keys, and the same values wherever else they appear", () => {
    const [req, res] = redactAll(
      [
        { id: 1, auth: token, AUTH_ID: "frame-auth-id-123", REFRESH_ID: "frame-refresh-456", fields: { TITLE: "D" } },
        { result: { echoed: `x ${token} y`, nested: { client_secret: "s3cr3t-value", password: "hunter22" } } },
      ],
      { max: 8192 },
    );
    const hidden = { auth: REDACTED, AUTH_ID: REDACTED, REFRESH_ID: REDACTED };
    expect(JSON.parse(req!)).toEqual({ id: 1, ...hidden, fields: { TITLE: "D" } });
    expect(JSON.parse(res!)).toEqual({
      result: { echoed: `x ${REDACTED} y`, nested: { client_secret: REDACTED, password: REDACTED } },
    });
  });

  it("redacts an OAuth grant's code, not an error's or a field's code elsewhere", () => {
    expect(redactAll([{ grant_type: "authorization_code", code: "one-time-code" }], { max: 100, oauth: true })[0]).toBe(
      `{"grant_type":"authorization_code","code":"${REDACTED}"}`,
    );
    expect(redactAll([{ error: { code: "ERROR_X" } }], { max: 100 })[0]).toBe('{"error":{"code":"ERROR_X"}}');
  });

  it("removes known secrets and tokens in URL queries", () => {
    const url = `https://x.bitrix24.com/rest/upload.json?auth=${token}&token=disk%7Cabc&name=a.csv`;
    const known = ["abcdefgh12345678"];
    const [text] = redactAll([{ uploadUrl: url, note: "client secret is abcdefgh12345678" }], { max: 500, known });
    expect(text).toBe(
      `{"uploadUrl":"https://x.bitrix24.com/rest/upload.json?auth=${REDACTED}&token=${REDACTED}` +
        `&name=a.csv",` +
        `"note":"client secret is ${REDACTED}"}`,
    );
  });

  it("shortens base64 files and long strings, and stops at the size cap", () => {
    const file = Buffer.alloc(30_000, 7).toString("base64");
    const [text] = redactAll([{ fileContent: ["a.bin", file], COMMENT: "a b ".repeat(1250) }], { max: 8192 });
    const comment = `${"a b ".repeat(256)}…[+3976 chars]`;
    expect(text).toBe(`{"fileContent":["a.bin","[base64, ${file.length} chars]"],"COMMENT":"${comment}"}`);
    const many = Array.from({ length: 5000 }, (_, i) => ({ ID: String(i), TITLE: `deal ${i}` }));
    const [capped] = redactAll([{ result: many }], { max: 8192 });
    expect(capped!.length).toBeLessThanOrEqual(8192 + "…[truncated]".length);
    expect(capped!.endsWith("…[truncated]")).toBe(true);
  });
});
