import "server-only";
import type { BatchCommands, BatchResult, BitrixClient, CallOptions } from "@/lib/bitrix/contract";
import { BitrixError } from "@/lib/bitrix/errors";
import { encodePhpQuery } from "@/lib/bitrix/php-query";
import { B24BatchResultSchema } from "@/lib/bitrix/schemas";

export const BATCH_MAX = 50;
export const PAGE_SIZE = 50;
type Caller = Pick<BitrixClient, "call">;

/**
 * ≤ 50 commands per request; larger inputs are chunked in order. `$result[key]` references resolve only inside one
 * request, so a command must not refer to a key of an earlier chunk (callers with references keep ≤ 50).
 */
export function batchVia(client: Caller) {
  return async (cmds: BatchCommands, opts: CallOptions & { halt?: boolean } = {}): Promise<BatchResult> => {
    const entries = Object.entries(cmds);
    const out: BatchResult = { result: {}, errors: {}, total: {}, next: {} };
    // A method over its operating time answers OPERATION_TIME_LIMIT for the rest of Bitrix24's window, inside a batch
    // too (docs/bitrix24.md#rate-limits): its later commands are not sent — each would be refused the same way and
    // spend a request of the portal's shared budget (a blocked backfill slice was 50 of them a minute) — and carry
    // that error, so no caller can read them as empty.
    const blocked = new Set<string>();
    for (let i = 0; i < entries.length; i += BATCH_MAX) {
      const chunk = entries.slice(i, i + BATCH_MAX).filter(([key, [method]]) => {
        if (!blocked.has(method.toLowerCase())) return true;
        out.errors[key] = { error: "OPERATION_TIME_LIMIT", error_description: `not sent: ${method} is over its time` };
        return false;
      });
      if (!chunk.length) continue;
      const cmd: Record<string, string> = {};
      for (const [key, [method, params]] of chunk) {
        if (method.toLowerCase() === "batch")
          throw new BitrixError("ERROR_BATCH_METHOD_NOT_ALLOWED", 0, "batch cannot be nested", "batch");
        const q = params ? encodePhpQuery(params) : "";
        cmd[key] = q ? `${method}?${q}` : method;
      }
      const res = await client.call(
        "batch",
        { halt: opts.halt ? 1 : 0, cmd },
        { ...opts, idempotent: opts.idempotent ?? chunk.every(([, [m]]) => /\.(get|list|fields)$/i.test(m)) },
      );
      const parsed = B24BatchResultSchema.safeParse(withErrorObjects(res.result));
      if (!parsed.success)
        throw new BitrixError(
          "MALFORMED_RESPONSE",
          200,
          "batch answer has no result/result_error maps",
          "batch",
          "malformed",
        );
      Object.assign(out.result, parsed.data.result);
      for (const [key, e] of Object.entries(parsed.data.result_error)) {
        // An empty code (the CRM's "Not found" / "Access denied.") becomes the code BitrixError derives from the text.
        const code = new BitrixError(e.error, 0, e.error_description).code;
        out.errors[key] = { error: code, error_description: e.error_description };
        if (code === "OPERATION_TIME_LIMIT") blocked.add(cmds[key]![0].toLowerCase());
      }
      Object.assign(out.total, parsed.data.result_total);
      Object.assign(out.next, parsed.data.result_next);
      if (opts.halt && Object.keys(parsed.data.result_error).length) break;
    }
    return out;
  };
}

/**
 * `result_error[key]` is `{error, error_description}` (batch.md); a bare string is read as the description of an error
 * without a code — the form the CRM's code-less RestException takes when something flattens it (defensive: the docs
 * show only objects).
 */
function withErrorObjects(result: unknown): unknown {
  if (!result || typeof result !== "object" || !("result_error" in result)) return result;
  const errors = (result as { result_error: unknown }).result_error;
  if (!errors || typeof errors !== "object" || Array.isArray(errors)) return result;
  const fixed = Object.fromEntries(
    Object.entries(errors).map(([k, v]) => [k, typeof v === "string" ? { error: "", error_description: v } : v]),
  );
  return { ...result, result_error: fixed };
}

function pick(result: unknown, itemsKey?: string): Record<string, unknown>[] {
  const items =
    itemsKey && result && typeof result === "object" ? (result as Record<string, unknown>)[itemsKey] : result;
  if (!Array.isArray(items))
    throw new BitrixError("MALFORMED_RESPONSE", 200, "list answer is not an array", undefined, "malformed");
  return items as Record<string, unknown>[];
}

/** The fast pattern for large sets: order ID ASC, filter >ID, start -1 — no COUNT query (docs/bitrix24.md#lists). */
export function listFast(client: Caller) {
  return function list<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions & { idKey?: string; itemsKey?: string } = {},
  ): AsyncIterable<T[]> {
    const idKey = opts.idKey ?? "ID";
    return {
      async *[Symbol.asyncIterator]() {
        let last = 0;
        for (;;) {
          const filter = { ...((params.filter as Record<string, unknown>) ?? {}), [`>${idKey}`]: last };
          const res = await client.call(method, { ...params, order: { [idKey]: "ASC" }, filter, start: -1 }, opts);
          const items = pick(res.result, opts.itemsKey);
          if (items.length) yield items as T[];
          if (items.length < PAGE_SIZE) return;
          last = Number(items[items.length - 1]![idKey]);
          if (!Number.isFinite(last))
            throw new BitrixError(
              "MALFORMED_RESPONSE",
              200,
              `list items have no numeric ${idKey}`,
              method,
              "malformed",
            );
        }
      },
    };
  };
}

/** Classic start/next paging, for methods without an ID order (docs/bitrix24.md#lists). */
export function listPaged(client: Caller) {
  return function paged<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): AsyncIterable<T[]> {
    return {
      async *[Symbol.asyncIterator]() {
        let start = 0;
        for (;;) {
          const res = await client.call(method, { ...params, start }, opts);
          const items = pick(res.result);
          if (items.length) yield items as T[];
          if (res.next === undefined || res.next <= start) return;
          start = res.next;
        }
      },
    };
  };
}
