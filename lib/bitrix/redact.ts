// What the REST log may keep of a request or an answer: JSON with every secret replaced and at most `max` characters.
// Secrets are recognised by key (Bitrix24 sends tokens as `auth`, `access_token`, `refresh_token`,
// `application_token`, AUTH_ID / REFRESH_ID in frame forms, `client_secret` in OAuth grants) and, once found, by value
// anywhere else in both texts (a method that echoes a token under another name). Files travel as base64 strings
// (`fileContent: [name, base64]`, `fileData`), so long base64 strings become their length. The walk stops at `max`
// characters: a 50-deal answer costs the same as a small one.

export const REDACTED = "[redacted]";
const SECRET_KEY = /token|secret|password|passwd|^auth$|^auth_id$|^refresh_id$|^sessid$/i;
/** An OAuth grant's authorization code is a one-time credential; elsewhere `code` is an error or field code. */
const OAUTH_SECRET_KEY = /^code$/i;
const BASE64 = /^[A-Za-z0-9+/_-]{200,}={0,2}$/;
const MAX_STRING = 1024;
const MAX_DEPTH = 12;

class Budget {
  parts: string[] = [];
  size = 0;
  full = false;
  constructor(readonly max: number) {}
  push(s: string) {
    if (this.full) return;
    if (this.size + s.length > this.max) {
      this.parts.push(s.slice(0, Math.max(0, this.max - this.size)), "…[truncated]");
      this.full = true;
      return;
    }
    this.parts.push(s);
    this.size += s.length;
  }
}

interface Walk {
  out: Budget;
  secrets: Set<string>;
  secretKey: (k: string) => boolean;
}

/** The secret strings of a redacted value: itself, the items of a list, and the secret-named keys of an object. */
function collect(v: unknown, w: Walk, depth = 0): void {
  if (typeof v === "string") {
    if (v.length >= 8) w.secrets.add(v);
  } else if (Array.isArray(v) && depth < MAX_DEPTH) {
    for (const x of v) collect(x, w, depth + 1);
  } else if (v && typeof v === "object" && depth < MAX_DEPTH) {
    for (const [k, x] of Object.entries(v)) if (w.secretKey(k)) collect(x, w, depth + 1);
  }
}

// Drive's uploadUrl carries the caller's token in its query: `…/upload.json?auth=…&token=disk%7C…` (b24restdocs
// api-reference/disk/folder/disk-folder-upload-file.md); a DOWNLOAD_URL may too.
const QUERY_SECRET = /([?&](?:auth|access_token|refresh_token|token|client_secret)=)[^&#\s"]+/gi;

function shortString(s: string): string {
  if (s.length >= 200 && BASE64.test(s.slice(0, 4096))) return `[base64, ${s.length} chars]`;
  const cut = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…[+${s.length - MAX_STRING} chars]` : s;
  return cut.includes("=") ? cut.replace(QUERY_SECRET, `$1${REDACTED}`) : cut;
}

function write(v: unknown, w: Walk, depth: number): void {
  if (w.out.full) return;
  if (typeof v === "string") return w.out.push(JSON.stringify(shortString(v)));
  if (typeof v === "number" || typeof v === "boolean") return w.out.push(String(v));
  if (typeof v === "bigint") return w.out.push(v.toString());
  if (v === null || typeof v !== "object") return w.out.push("null");
  if (depth >= MAX_DEPTH) return w.out.push('"[too deep]"');
  const array = Array.isArray(v);
  w.out.push(array ? "[" : "{");
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    if (!array && x === undefined) continue;
    if (!first) w.out.push(",");
    first = false;
    if (!array) w.out.push(`${JSON.stringify(k)}:`);
    if (!array && w.secretKey(k) && x !== null && x !== "") {
      collect(x, w);
      w.out.push(JSON.stringify(REDACTED));
    } else write(x, w, depth + 1);
    if (w.out.full) return;
  }
  w.out.push(array ? "]" : "}");
}

/**
 * Redacted, capped texts of several values (a request and its answer): a secret found in one is removed from all.
 * `known` are secrets to remove wherever they appear (our client secret).
 */
export function redactAll(values: unknown[], opts: { max: number; oauth?: boolean; known?: string[] }): string[] {
  const secrets = new Set((opts.known ?? []).filter((s) => s.length >= 8));
  const secretKey = (k: string) => SECRET_KEY.test(k) || (opts.oauth === true && OAUTH_SECRET_KEY.test(k));
  const texts = values.map((v) => {
    if (v === undefined) return "";
    const w: Walk = { out: new Budget(opts.max), secrets, secretKey };
    write(v, w, 0);
    return w.out.parts.join("");
  });
  // Longest first: a secret that contains another is removed whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  return texts.map((t) => ordered.reduce((acc, s) => (acc.includes(s) ? acc.split(s).join(REDACTED) : acc), t));
}
