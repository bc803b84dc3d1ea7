import { RestError } from "./errors";
import { fieldByName, type ItemField } from "./items-model";

// Filters, orders and pages of the universal list methods (crm.item.list, crm.stagehistory.list, productrow.list,
// crm.type.list): prefixes >= > <= < @ !@ % =% %= !% != ! =, nested {logic: "OR"} groups, 50 per page with total
// and next, start -1 without a count (b24restdocs crm/universal/crm-item-list.md; settings/performance/huge-data.md).

export type Row = Record<string, unknown>;
export const PAGE = 50;

export const asObject = (v: unknown): Record<string, unknown> => (v && typeof v === "object" ? (v as Row) : {});
/** A form body gives arrays as {"0": …}; JSON as arrays. */
export const asList = (v: unknown): unknown[] =>
  v === undefined || v === null || v === ""
    ? []
    : Array.isArray(v)
      ? v
      : typeof v === "object"
        ? Object.values(v)
        : [v];
export const yes = (v: unknown) => ["Y", "y", "1", "true", true, 1].includes(v as string);

/** A value for comparison: instants for dates, numbers for numbers, Y/N and 1/0 alike for booleans. */
function comparable(v: unknown, type: string): number | string {
  if (v === null || v === undefined) return "";
  if (type === "boolean") return yes(v) || v === "Y" ? 1 : 0;
  if ((type === "datetime" || type === "date") && typeof v === "string" && v) {
    const t = Date.parse(v.length === 10 ? `${v}T00:00:00` : v);
    if (!Number.isNaN(t)) return t;
  }
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) && type !== "string") return Number(v);
  return String(v);
}

const like = (have: string, pattern: string) =>
  new RegExp(
    `^${pattern
      .split("%")
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  ).test(have);

function test(op: string, have: unknown, want: unknown, type: string): boolean {
  const h = comparable(have, type);
  const wants = asList(want).map((w) => comparable(w, type));
  const w = comparable(want, type);
  switch (op) {
    case ">":
      return h > w;
    case ">=":
      return h >= w;
    case "<":
      return h < w;
    case "<=":
      return h <= w;
    case "@":
      return wants.includes(h);
    case "!@":
      return !wants.includes(h);
    case "!":
    case "!=":
      return Array.isArray(want) ? !wants.includes(h) : h !== w;
    case "%":
      return String(have ?? "")
        .toLowerCase()
        .includes(String(want).toLowerCase());
    case "!%":
      return !String(have ?? "")
        .toLowerCase()
        .includes(String(want).toLowerCase());
    case "=%":
    case "%=":
      return like(String(have ?? ""), String(want));
    case "!=%":
    case "!%=":
      return !like(String(have ?? ""), String(want));
    default:
      return Array.isArray(want) || (want && typeof want === "object") ? wants.includes(h) : h === w;
  }
}

/** A filter as a predicate over rows whose keys are the fields' names; an unknown field is INVALID_ARG_VALUE. */
export function compileFilter(filter: Row, fields: ItemField[], key: (f: ItemField) => string): (row: Row) => boolean {
  const logic = String(filter.logic ?? "AND").toUpperCase();
  const parts: ((row: Row) => boolean)[] = [];
  for (const [rawKey, want] of Object.entries(filter)) {
    if (rawKey === "logic") continue;
    const m = /^(!=%|!%=|>=|<=|!=|!@|=%|%=|!%|>|<|=|!|%|@)?(.+)$/.exec(rawKey)!;
    const f = fieldByName(fields, m[2]!);
    if (!f && want && typeof want === "object" && !Array.isArray(want) && (/^\d+$/.test(rawKey) || "logic" in want)) {
      parts.push(compileFilter(want as Row, fields, key));
      continue;
    }
    if (!f) throw new RestError(400, "INVALID_ARG_VALUE", `Invalid filter: field '${m[2]}' is not allowed in filter`);
    parts.push((row) => test(m[1] ?? "=", row[key(f)], want, f.def.type));
  }
  return logic === "OR" && parts.length ? (row) => parts.some((p) => p(row)) : (row) => parts.every((p) => p(row));
}

/** Sorts rows in place by `order` ({field: ASC|DESC}, first key first), then by the id field. */
export function sortRows(rows: Row[], order: Row, fields: ItemField[], key: (f: ItemField) => string, idKey: string) {
  const keys = Object.entries(order).map(([name, dir]) => {
    const f = fieldByName(fields, name);
    if (!f) throw new RestError(400, "INVALID_ARG_VALUE", `Invalid order: field '${name}' is not allowed in order`);
    const d = String(dir).toUpperCase();
    if (d !== "ASC" && d !== "DESC") {
      throw new RestError(
        400,
        "INVALID_ARG_VALUE",
        `Invalid order: allowed sort directions are ASC, DESC. But got '${String(dir)}' for field '${name}'`,
      );
    }
    return { k: key(f), type: f.def.type, sign: d === "DESC" ? -1 : 1 };
  });
  rows.sort((a, b) => {
    for (const { k, type, sign } of keys) {
      const [x, y] = [comparable(a[k], type), comparable(b[k], type)];
      if (x !== y) return (x < y ? -1 : 1) * sign;
    }
    return Number(a[idKey]) - Number(b[idKey]);
  });
}

/** One page: `start` offset with total and next; `start: -1` the first 50 without counting (total 0, no next). */
export function page<T>(rows: T[], startParam: unknown): { rows: T[]; total: number; next?: number } {
  const start = Number(startParam ?? 0) || 0;
  if (start === -1) return { rows: rows.slice(0, PAGE), total: 0 };
  const from = Math.max(0, start);
  return {
    rows: rows.slice(from, from + PAGE),
    total: rows.length,
    next: from + PAGE < rows.length ? from + PAGE : undefined,
  };
}
