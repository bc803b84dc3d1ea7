import { AppError } from "@/lib/http-errors";

// The one way a route reads a request body. Every route is reachable before any authentication, and a chunked body
// carries no Content-Length: reading it whole (`req.arrayBuffer()`, `req.json()`) let three 400 MB bodies take the
// server from 173 MB to 2 GB. So the stream is read chunk by chunk and cancelled the moment it passes the limit.

/** Bodies of the JSON routes (frame renewal, export, revert): a few hundred bytes in practice. */
export const JSON_MAX_BYTES = 64 * 1024;

export const tooLarge = () => new AppError(413, "body_too_large", "Request body is too large");

/** The body's bytes, at most `maxBytes` of them; more ⇒ 413, and the rest of the stream is never read. */
export async function readBodyLimited(req: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (!req.body) return new Uint8Array(0);
  if (declared > maxBytes) {
    await req.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * A JSON body of at most `maxBytes`. Empty or malformed JSON reads as `{}` (as `req.json().catch(() => ({}))` did), so
 * the route's zod schema names the missing field; only an oversized body is an error of its own (413).
 */
export async function readJsonBody(req: Request, maxBytes = JSON_MAX_BYTES): Promise<unknown> {
  const text = new TextDecoder().decode(await readBodyLimited(req, maxBytes));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
