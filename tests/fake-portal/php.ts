// PHP-compatible form codecs: http_build_query (how Bitrix24 encodes every push: events, installer and placement
// POSTs) and parse_str (how it reads form bodies and batch sub-queries). docs/bitrix24.md#wire-format.
export type PhpValue = string | PhpValue[] | { [k: string]: PhpValue };

const enc = (s: string) =>
  encodeURIComponent(s)
    .replace(/%20/g, "+")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Every leaf becomes a string; null/undefined and empty arrays/objects vanish, as in PHP. */
export function httpBuildQuery(value: Record<string, unknown>): string {
  const parts: string[] = [];
  const walk = (key: string, v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === "object") {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(`${key}[${k}]`, x);
      return;
    }
    const s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
    parts.push(`${enc(key)}=${enc(s)}`);
  };
  for (const [k, v] of Object.entries(value)) walk(k, v);
  return parts.join("&");
}

/** parse_str: bracket keys into nested objects (numeric keys stay object keys), `[]` appends. */
export function parseStr(body: string): Record<string, PhpValue> {
  const out: Record<string, PhpValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const m = /^([^[\]]+)((?:\[[^\]]*\])*)/.exec(rawKey);
    if (!m) continue;
    const keys = [m[1]!, ...(m[2]!.match(/\[([^\]]*)\]/g) ?? []).map((s) => s.slice(1, -1))];
    if (keys.some((k) => k === "__proto__" || k === "constructor" || k === "prototype")) continue;
    let node = out as Record<string, PhpValue>;
    for (let i = 0; i < keys.length; i++) {
      let key = keys[i]!;
      if (key === "") key = String(Object.keys(node).length);
      if (i === keys.length - 1) node[key] = value;
      else {
        if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
        node = node[key] as Record<string, PhpValue>;
      }
    }
  }
  return out;
}
