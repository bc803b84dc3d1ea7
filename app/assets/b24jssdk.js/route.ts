import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

// GET /assets/b24jssdk.js — the real @bitrix24/b24jssdk (its UMD build, window.B24Js) from our own origin, for the
// framework-free CRM placements (/assets/history.js loads it after the first render). Versioned by the package.
const require = createRequire(import.meta.url);
let body: Promise<Buffer> | null = null;

export async function GET() {
  body ??= readFile(path.join(path.dirname(require.resolve("@bitrix24/b24jssdk/package.json")), "dist/umd/index.min.js"));
  return new Response(new Uint8Array(await body), { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" } });
}
