import { describe, expect, it } from "vitest";
import type { CallResult } from "@/lib/bitrix/contract";
import { batchVia, listPaged } from "@/lib/bitrix/paging";

// Classic paging (docs/bitrix24.md#lists): pages of 50, `next` = the `start` of the next page, present only while
// more rows exist. lib/history/fields.ts reads crm.status.list this way (it has no ID order to page by).
function portal(rows: number, stuckAt?: number) {
  const starts: number[] = [];
  const call = async <T>(_method: string, params: Record<string, unknown> = {}): Promise<CallResult<T>> => {
    const start = Number(params.start);
    starts.push(start);
    const length = Math.max(0, Math.min(50, rows - start));
    const result = Array.from({ length }, (_, i) => ({ ID: String(start + i) }));
    const next = stuckAt === start ? start : start + 50 < rows ? start + 50 : undefined;
    return { result: result as T, total: rows, ...(next === undefined ? {} : { next }) };
  };
  return { client: { call }, starts };
}

async function all(client: ReturnType<typeof portal>["client"]) {
  const seen: string[] = [];
  for await (const page of listPaged(client)("crm.status.list", { order: { SORT: "ASC" } })) {
    seen.push(...page.map((r) => String(r.ID)));
  }
  return seen;
}

describe("listPaged", () => {
  it("follows next until the portal stops sending it: every row once, in order", async () => {
    const p = portal(120);
    const ids = await all(p.client);
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => String(i)));
    expect(p.starts).toEqual([0, 50, 100]);
  });

  it("stops on a next that does not move forward instead of asking for the same page forever", async () => {
    const p = portal(200, 50);
    expect(await all(p.client)).toHaveLength(100);
    expect(p.starts).toEqual([0, 50]);
  });
});

describe("batchVia", () => {
  // Bitrix24 refuses a method over its operating time for the rest of its window, as each command's error inside a
  // batch (docs/bitrix24.md#rate-limits): the batch is answered 200 with result_error for that method's commands.
  it("sends no more commands of a method once one came back OPERATION_TIME_LIMIT, and marks them failed", async () => {
    const sent: string[][] = [];
    const call = async <T>(_method: string, params: Record<string, unknown> = {}): Promise<CallResult<T>> => {
      const keys = Object.keys(params.cmd as Record<string, string>);
      sent.push(keys);
      const refused = keys.filter((k) => k.startsWith("rows"));
      const result = Object.fromEntries(keys.filter((k) => !refused.includes(k)).map((k) => [k, { ok: k }]));
      const error = {
        error: "OPERATION_TIME_LIMIT",
        error_description: "Method is blocked due to operation time limit.",
      };
      const result_error = Object.fromEntries(refused.map((k) => [k, error]));
      return { result: { result, result_error, result_total: {}, result_next: {} } as T };
    };
    const cmds = Object.fromEntries([
      ...Array.from({ length: 120 }, (_, i): [string, [string, Record<string, unknown>]] => [
        `rows${i}`,
        ["crm.item.productrow.list", { filter: { "=ownerId": i } }],
      ]),
      ["deal", ["crm.item.get", { entityTypeId: 2, id: 1 }]],
    ]);
    const res = await batchVia({ call })(cmds);
    expect(sent.map((keys) => keys.length)).toEqual([50, 1]); // the third chunk carried only the other method
    expect(Object.keys(res.errors)).toHaveLength(120);
    expect(res.errors.rows119).toMatchObject({ error: "OPERATION_TIME_LIMIT" });
    expect(res.result.deal).toEqual({ ok: "deal" });
  });
});
