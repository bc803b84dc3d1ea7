import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BitrixError, classifyBitrixCode } from "@/lib/bitrix/errors";
import { toCallResult } from "@/lib/bitrix/http";

const ERRORS = path.resolve(import.meta.dirname, "../../tests/fixtures/rest/errors");

describe("error classification is by code, not status", () => {
  it.each([
    ["expired_token", "auth"], ["invalid_token", "auth"], ["NO_AUTH_FOUND", "auth"],
    ["QUERY_LIMIT_EXCEEDED", "limit"], ["OPERATION_TIME_LIMIT", "limit"],
    ["METHOD_CONFIRM_WAITING", "confirmation"], ["METHOD_CONFIRM_DENIED", "confirmation"],
    ["PAYMENT_REQUIRED", "terminal"], ["invalid_grant", "terminal"], ["wrong_client", "terminal"],
    ["ERROR_METHOD_NOT_FOUND", "not_found"], ["ACCESS_DENIED", "access_denied"], ["insufficient_scope", "access_denied"],
    ["INVALID_REQUEST", "invalid_request"], ["BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION", "access_denied"],
    ["SOMETHING_NEW", "unknown"],
  ])("%s → %s", (code, kind) => expect(classifyBitrixCode(code)).toBe(kind));

  it("the same code gets the same kind whatever the HTTP status", () => {
    for (const status of [200, 400, 401, 403, 500]) {
      expect(() => toCallResult({ status, data: { error: "METHOD_CONFIRM_WAITING", error_description: "Waiting for confirmation" } }, "voximplant.user.get"))
        .toThrow(expect.objectContaining({ kind: "confirmation", status }));
    }
  });

  it("every documented error fixture becomes a BitrixError with its code", () => {
    const files = readdirSync(ERRORS).filter((f) => /^\d{3}\./.test(f) && f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const body = JSON.parse(readFileSync(path.join(ERRORS, f), "utf8"));
      const status = Number(f.slice(0, 3));
      try {
        toCallResult({ status, data: body }, "m");
        throw new Error(`${f} did not throw`);
      } catch (e) {
        expect(e).toBeInstanceOf(BitrixError);
        expect((e as BitrixError).code).toBe(body.error);
      }
    }
  });

  it("a v3 error body keeps its code", () => {
    expect(() => toCallResult({ status: 400, data: { error: { code: "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", message: "bad" } } }, "tasks.task.get"))
      .toThrow(expect.objectContaining({ kind: "invalid_request" }));
  });
});
