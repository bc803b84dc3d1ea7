import "server-only";
import { BitrixError } from "@/lib/bitrix/errors";
import { B24ErrorSchema, B24SuccessSchema, B24V3ErrorSchema } from "@/lib/bitrix/schemas";
import type { CallResult } from "@/lib/bitrix/contract";
import { recordRestCall, type RestLogContext } from "@/lib/bitrix/rest-log";
import { loadEnv } from "@/lib/env";
import { z } from "zod";

const EmptyCodeErrorSchema = z.object({ error: z.literal(""), error_description: z.string() });

// The only place that talks HTTP to a portal or an OAuth server (STYLE §5: one wrapper per vendor).

const USER_AGENT = "b24-change-history/1.0";
export const DEFAULT_TIMEOUT_MS = 30_000;

/** https only, unless BITRIX_ALLOW_HTTP (dev and tests): Bitrix24 itself answers INVALID_REQUEST "Https required". */
export function assertAllowedUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BitrixError("INVALID_ENDPOINT", 0, `${what} is not a URL`, undefined, "invalid_request");
  }
  const ok = url.protocol === "https:" || (url.protocol === "http:" && loadEnv().BITRIX_ALLOW_HTTP);
  if (!ok) throw new BitrixError("INVALID_ENDPOINT", 0, `${what} must use https`, undefined, "invalid_request");
  return url;
}

/** `https://x/rest/` + `crm.deal.get` → `https://x/rest/crm.deal.get`, never `/rest//…` (docs/bitrix24.md#rest-urls) */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export interface RawResponse {
  status: number;
  data: unknown;
}

export async function sendJson(
  url: string,
  body: unknown,
  opts: { timeoutMs?: number; signal?: AbortSignal; method?: string; form?: boolean; log?: RestLogContext } = {},
): Promise<RawResponse> {
  const startedAt = Date.now();
  const method = opts.method ?? "(unnamed)";
  // Every request and its answer go to the REST log (lib/bitrix/rest-log.ts), redacted there.
  const logged = (status: number, answer: unknown, errorCode?: string) =>
    recordRestCall({ ...opts.log, url, method, params: body, startedAt, status, answer, errorCode });
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": opts.form ? "application/x-www-form-urlencoded" : "application/json",
        accept: "application/json",
        "user-agent": USER_AGENT,
      },
      body: opts.form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body),
      signal,
      redirect: "manual",
    });
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    logged(0, undefined, timedOut ? "TIMEOUT" : "NETWORK_ERROR");
    throw new BitrixError(
      timedOut ? "TIMEOUT" : "NETWORK_ERROR",
      0,
      timedOut ? "no answer in time" : "connection failed",
      opts.method,
      "network",
    );
  }
  return readAnswer(res, opts.method, logged);
}

type Logged = (status: number, answer: unknown, errorCode?: string) => void;

/** The answer's body as JSON, logged; an empty body is `undefined`, anything else not JSON a MALFORMED_RESPONSE. */
async function readAnswer(res: Response, method: string | undefined, logged: Logged): Promise<RawResponse> {
  const text = await res.text();
  if (!text) {
    logged(res.status, undefined);
    return { status: res.status, data: undefined };
  }
  try {
    const data: unknown = JSON.parse(text);
    logged(res.status, data);
    return { status: res.status, data };
  } catch {
    logged(res.status, text, "MALFORMED_RESPONSE");
    const snippet = text.slice(0, 80).replace(/\s+/g, " ");
    throw new BitrixError(
      "MALFORMED_RESPONSE",
      res.status,
      `not JSON (HTTP ${res.status}): "${snippet}"`,
      method,
      "malformed",
    );
  }
}

/** Turns a raw answer into a CallResult or the one typed error (v2 and v3 shapes). */
export function toCallResult<T>(raw: RawResponse, method: string): CallResult<T> {
  const v2err = B24ErrorSchema.safeParse(raw.data);
  if (v2err.success) throw new BitrixError(v2err.data.error, raw.status, v2err.data.error_description ?? "", method);
  // The CRM's classic methods answer `{"error":"","error_description":"Not found"}` (HTTP 400, crm-deal-get.md):
  // an error without a code, which BitrixError names from its description — not a malformed answer.
  const noCode = EmptyCodeErrorSchema.safeParse(raw.data);
  if (noCode.success) throw new BitrixError("", raw.status, noCode.data.error_description, method);
  const v3err = B24V3ErrorSchema.safeParse(raw.data);
  if (v3err.success) throw new BitrixError(v3err.data.error.code, raw.status, v3err.data.error.message ?? "", method);
  if (raw.status >= 300 && raw.status < 400) {
    throw new BitrixError(
      "PORTAL_MOVED",
      raw.status,
      "the portal answered with a redirect (domain change?)",
      method,
      "unknown",
    );
  }
  const ok = B24SuccessSchema.safeParse(raw.data);
  if (!ok.success || raw.status >= 400 || !(raw.data && typeof raw.data === "object" && "result" in raw.data)) {
    const kind = raw.status >= 500 ? "unknown" : "malformed";
    throw new BitrixError(
      raw.status >= 500 ? "INTERNAL_SERVER_ERROR" : "MALFORMED_RESPONSE",
      raw.status,
      "unexpected response shape",
      method,
      kind,
    );
  }
  return ok.data as CallResult<T>;
}

/** multipart/form-data POST: step 2 of a Drive upload, to the uploadUrl Bitrix24 gave (docs/bitrix24.md#uploads) */
export async function sendMultipart(
  url: string,
  field: string,
  file: { name: string; content: Uint8Array },
  method: string,
): Promise<RawResponse> {
  const startedAt = Date.now();
  // The log keeps the upload address's host only; the file is logged as its name and size.
  const params = { [field]: { name: file.name, bytes: file.content.byteLength } };
  const logged = (status: number, answer: unknown, errorCode?: string) =>
    recordRestCall({ url, method, params, startedAt, status, answer, errorCode });
  const form = new FormData();
  form.set(field, new Blob([new Uint8Array(file.content)]), file.name);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
      headers: { "user-agent": USER_AGENT },
    });
  } catch {
    logged(0, undefined, "NETWORK_ERROR");
    throw new BitrixError("NETWORK_ERROR", 0, "upload failed", method, "network");
  }
  return readAnswer(res, method, logged);
}

/**
 * The name a Bitrix24 download gives its file, read without the file: a GET of the first byte (`Range: bytes=0-0`)
 * whose `Content-Disposition` carries the name, the body dropped unread. Core main/classes/general/file.php
 * CFile::ViewByUser answers a download with `attachment; filename="<transliterated>"; filename*=utf-8''<encoded>` and
 * honours Range; a HEAD would not do: its answer has no Content-Disposition. null when the answer names nothing
 * (an error's JSON, an expired token, a file no longer there).
 */
export async function downloadName(url: string, log: RestLogContext = {}): Promise<string | null> {
  const startedAt = Date.now();
  const method = "download";
  const logged = (status: number, answer: unknown, errorCode?: string) =>
    recordRestCall({ ...log, url, method, params: { range: "bytes=0-0" }, startedAt, status, answer, errorCode });
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { range: "bytes=0-0", "user-agent": USER_AGENT },
      signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
      redirect: "manual",
    });
  } catch {
    logged(0, undefined, "NETWORK_ERROR");
    return null;
  }
  const disposition = res.headers.get("content-disposition");
  await res.body?.cancel().catch(() => undefined);
  const name = res.status === 200 || res.status === 206 ? nameInDisposition(disposition) : null;
  logged(res.status, { contentDisposition: disposition }, name ? undefined : "NO_FILE_NAME");
  return name;
}

/** RFC 6266: `filename*=<charset>'<lang>'<%-encoded>` (RFC 8187) first, then `filename="…"` or a bare token. */
export function nameInDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*([\w!#$%&+^`{}~-]+)'[^']*'([^;\s]+)/i.exec(header);
  if (extended && /^utf-8$/i.test(extended[1]!)) {
    try {
      const name = decodeURIComponent(extended[2]!);
      if (name) return name;
    } catch {
      /* a broken encoding: fall back to the plain name */
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  const name = plain ? (plain[1]?.replace(/\\(.)/g, "$1") ?? plain[2]) : undefined;
  return name ? name : null;
}
