import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { CallResult } from "@/lib/bitrix/contract";
import { BitrixError, classifyBitrixCode, EMPTY_CODE_FALLBACK, isAccessDenied, isNotFound } from "@/lib/bitrix/errors";
import { toCallResult } from "@/lib/bitrix/http";
import { batchVia } from "@/lib/bitrix/paging";

const ERRORS = path.resolve(import.meta.dirname, "../../tests/fixtures/rest/errors");

describe("error classification is by code, not status", () => {
  it.each([
    ["expired_token", "auth"],
    ["invalid_token", "auth"],
    ["NO_AUTH_FOUND", "auth"],
    ["QUERY_LIMIT_EXCEEDED", "limit"],
    ["OPERATION_TIME_LIMIT", "limit"],
    ["METHOD_CONFIRM_WAITING", "confirmation"],
    ["METHOD_CONFIRM_DENIED", "confirmation"],
    ["PAYMENT_REQUIRED", "terminal"],
    ["invalid_grant", "terminal"],
    ["wrong_client", "config"],
    ["ERROR_METHOD_NOT_FOUND", "not_found"],
    ["ACCESS_DENIED", "access_denied"],
    ["insufficient_scope", "access_denied"],
    ["INVALID_REQUEST", "invalid_request"],
    ["BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION", "access_denied"],
    ["SOMETHING_NEW", "unknown"],
  ])("%s → %s", (code, kind) => expect(classifyBitrixCode(code)).toBe(kind));

  it("the same code gets the same kind whatever the HTTP status", () => {
    for (const status of [200, 400, 401, 403, 500]) {
      expect(() =>
        toCallResult(
          { status, data: { error: "METHOD_CONFIRM_WAITING", error_description: "Waiting for confirmation" } },
          "voximplant.user.get",
        ),
      ).toThrow(expect.objectContaining({ kind: "confirmation", status }));
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
    expect(() =>
      toCallResult(
        {
          status: 400,
          data: { error: { code: "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", message: "bad" } },
        },
        "tasks.task.get",
      ),
    ).toThrow(expect.objectContaining({ kind: "invalid_request" }));
  });
});

// crm.deal.get / crm.deal.update docs (b24restdocs api-reference/crm/deals/): HTTP 400, `error` is an empty string.
describe("CRM errors without a code are classified by their description", () => {
  const body = (description: string) => ({ error: "", error_description: description });

  it("HTTP 400 + empty error 'Not found' is a not-found BitrixError, not a malformed answer", () => {
    let caught: unknown;
    try {
      toCallResult({ status: 400, data: body("Not found") }, "crm.deal.get");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BitrixError);
    expect(caught).toMatchObject({ code: "NOT_FOUND", kind: "not_found", status: 400, description: "Not found" });
    expect(isNotFound(caught)).toBe(true);
    expect(isAccessDenied(caught)).toBe(false);
  });

  it("'Access denied.' is access_denied with its description kept", () => {
    expect(() => toCallResult({ status: 400, data: body("Access denied.") }, "crm.deal.update")).toThrow(
      expect.objectContaining({ code: "ACCESS_DENIED", kind: "access_denied", description: "Access denied." }),
    );
  });

  it("any other description is a rejected request that keeps the text", () => {
    const description = "ID is not defined or invalid.";
    expect(() => toCallResult({ status: 400, data: body(description) }, "crm.deal.get")).toThrow(
      expect.objectContaining({ code: EMPTY_CODE_FALLBACK, kind: "invalid_request", description }),
    );
  });

  it("a missing method is not a missing record", () => {
    expect(isNotFound(new BitrixError("ERROR_METHOD_NOT_FOUND", 404, "Method not found!"))).toBe(false);
    expect(isNotFound(new BitrixError("ERROR_NOT_FOUND", 400, "Could not find entity with id '5'"))).toBe(true);
    expect(isAccessDenied(new BitrixError("ACCESS_DENIED", 403, "Access denied!"))).toBe(true);
  });

  it("inside batch result_error, in the keyed-object and the bare-string forms", async () => {
    const raw = {
      result: {
        result: { ok: [{ ID: "1" }] },
        result_error: { gone: { error: "", error_description: "Not found" }, hidden: "Access denied.", bad: "Nope" },
        result_total: [],
        result_next: [],
      },
    };
    const batch = batchVia({ call: async <T>() => raw as unknown as CallResult<T> });
    const res = await batch({
      ok: ["crm.deal.list"],
      gone: ["crm.deal.get", { id: 5 }],
      hidden: ["crm.deal.get"],
      bad: ["x.y"],
    });
    expect(res.errors).toEqual({
      gone: { error: "NOT_FOUND", error_description: "Not found" },
      hidden: { error: "ACCESS_DENIED", error_description: "Access denied." },
      bad: { error: EMPTY_CODE_FALLBACK, error_description: "Nope" },
    });
    expect(res.result).toEqual({ ok: [{ ID: "1" }] });
    expect(isNotFound(new BitrixError(res.errors.gone!.error, 0, res.errors.gone!.error_description))).toBe(true);
  });
});
