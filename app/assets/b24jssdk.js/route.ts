import { readFile } from "node:fs/promises";
import path from "node:path";

// GET /assets/b24jssdk.js — the real @bitrix24/b24jssdk (its UMD build, window.B24Js) from our own origin, for the
// framework-free CRM placements (/assets/history.js loads it after the first render). The file is read from the
// installed package at run time (the server runs in the project directory, as `next start` requires).
const FILE = path.join(process.cwd(), "node_modules", "@bitrix24", "b24jssdk", "dist", "umd", "index.min.js");
let body: Promise<Buffer> | null = null;

export async function GET() {
  body ??= readFile(FILE);
  return new Response(new Uint8Array(await body), { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" } });
}
