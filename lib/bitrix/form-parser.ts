import { AppError } from "@/lib/http-errors";
import { readBodyLimited } from "@/lib/http/read-body";

// The one parser for bodies Bitrix24 pushes (events, installer and placement POSTs): application/x-www-form-urlencoded
// with PHP bracket keys, every leaf a string (docs/bitrix24.md#wire-format). It runs BEFORE application_token is
// verified, so it refuses prototype keys and bounds size, key count and depth: hostile input gets a clear 400, never a
// crash.

export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export const FORM_LIMITS = { maxBytes: 1_000_000, maxKeys: 2_000, maxDepth: 8 };
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    throw new AppError(400, "invalid_form", "Malformed percent-encoding in the form body");
  }
}

function splitKey(raw: string): string[] {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(raw);
  if (!m) throw new AppError(400, "invalid_form", `Malformed form key "${raw.slice(0, 40)}"`);
  const keys = [m[1]!, ...(m[2]!.match(/\[([^\]]*)\]/g) ?? []).map((s) => s.slice(1, -1))];
  if (keys.length > FORM_LIMITS.maxDepth) throw new AppError(400, "invalid_form", "Form keys are nested too deeply");
  if (keys.some((k) => FORBIDDEN.has(k))) throw new AppError(400, "invalid_form", "Forbidden form key");
  return keys;
}

function assign(target: FormObject, keys: string[], value: string) {
  let node = target;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] === "" ? String(Object.keys(node).length) : keys[i]!;
    if (i === keys.length - 1) {
      if (typeof node[key] === "object")
        throw new AppError(400, "invalid_form", `Form key "${keys.join(".")}" is both a value and an object`);
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next === "string")
      throw new AppError(
        400,
        "invalid_form",
        `Form key "${keys.slice(0, i + 1).join(".")}" is both a value and an object`,
      );
    node = (node[key] ??= Object.create(null) as FormObject) as FormObject;
  }
}

export function parseBitrixForm(body: string): FormObject {
  if (body.length > FORM_LIMITS.maxBytes) throw new AppError(413, "body_too_large", "Form body is too large");
  const out = Object.create(null) as FormObject;
  if (!body) return out;
  const pairs = body.split("&").filter(Boolean);
  if (pairs.length > FORM_LIMITS.maxKeys) throw new AppError(400, "invalid_form", "Too many form fields");
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    if (!key) continue;
    assign(out, splitKey(key), value);
  }
  return out;
}

/** Reads a request body as a Bitrix24 form: wrong content type or non-UTF-8 bytes are a 4xx before any parsing. */
export async function readBitrixForm(req: Request): Promise<FormObject> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    throw new AppError(415, "unsupported_media_type", "Expected application/x-www-form-urlencoded");
  }
  // Read while streaming and cut at the limit: a chunked body has no Content-Length to check first.
  const bytes = await readBodyLimited(req, FORM_LIMITS.maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError(400, "invalid_form", "Form body is not UTF-8");
  }
  return parseBitrixForm(text);
}
