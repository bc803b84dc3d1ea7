// PHP http_build_query semantics: nested objects/arrays become bracket keys (fields[PHONE][0][VALUE]=…), booleans
// 1/0, null omitted. Used for batch sub-commands, which Bitrix24 parses with parse_str (docs/bitrix24.md#wire-format,
// #batch). Brackets and `$` stay literal so `$result[cmd][ID]` references reach the batch parser intact; `&`, `=`, `%`,
// `+` and `#` are always escaped.
const enc = (s: string) => encodeURIComponent(s).replace(/%5B/gi, "[").replace(/%5D/gi, "]").replace(/%24/g, "$");

export function encodePhpQuery(value: Record<string, unknown>): string {
  const parts: string[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(`${prefix}[${i}]`, x));
    if (v instanceof Date) return void parts.push(`${enc(prefix)}=${enc(v.toISOString())}`);
    if (typeof v === "object")
      return Object.entries(v as Record<string, unknown>).forEach(([k, x]) => walk(`${prefix}[${k}]`, x));
    parts.push(`${enc(prefix)}=${enc(typeof v === "boolean" ? (v ? "1" : "0") : String(v))}`);
  };
  for (const [k, v] of Object.entries(value)) walk(k, v);
  return parts.join("&");
}
