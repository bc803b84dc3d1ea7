import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken } from "@/lib/auth/session";
import { FORM_LIMITS } from "@/lib/bitrix/form-parser";
import { JSON_MAX_BYTES } from "@/lib/http/read-body";
import { startAppWithFake } from "../support/lifecycle-env";
import { discoverRoutes, fillPath, paramsFor, ROOT } from "../support/routes";

// Every route is reachable before authentication, and a chunked body has no Content-Length to refuse it by: three
// chunked 400 MB bodies to /api/bitrix/events once took the server from 173 MB to 2 GB. Each POST route gets a
// 300 MB body generated lazily (no Content-Length), and must stop pulling it at its limit — 413 where it reads
// bodies, no read at all where a missing session refuses first — with the process's memory flat.
const TOTAL = 300 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x61); // "aaaa…": the same chunk every time, the source itself is free
const MB = 1024 * 1024;

interface Sent {
  status: number;
  pulled: number;
  peakRss: number;
}
type Handler = (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;

async function sendHuge(route: string, type: string, headers: Record<string, string> = {}, params = {}): Promise<Sent> {
  const file = discoverRoutes().find((r) => r.path === route && r.kind === "api")!.file;
  const mod = (await import(path.join(ROOT, file))) as Record<string, Handler>;
  let pulled = 0;
  let peakRss = process.memoryUsage.rss();
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= TOTAL) return c.close();
      pulled += CHUNK.byteLength;
      if (pulled % (16 * CHUNK.byteLength) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
      c.enqueue(CHUNK);
    },
  });
  const url = `http://app${fillPath(route, params)}`;
  const init = { method: "POST", headers: { "content-type": type, ...headers }, body, duplex: "half" };
  const ctx = { params: Promise.resolve(paramsFor(route, params)) };
  const res = await mod.POST!(new Request(url, init as RequestInit), ctx);
  await res.text();
  return { status: res.status, pulled, peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
}

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let adminToken = "";
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
  const f = (await env.control("frame-auth", { userId: 1 })) as Record<string, string>;
  adminToken = await issueSessionToken(await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! }));
});
afterAll(() => env.stop());

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

describe("request bodies are cut at the limit while streaming", () => {
  const start = process.memoryUsage.rss();

  it.each([
    ["/api/bitrix/events", FORM, FORM_LIMITS.maxBytes],
    ["/api/bitrix/install", FORM, FORM_LIMITS.maxBytes],
    ["/bitrix/app", FORM, FORM_LIMITS.maxBytes],
    ["/bitrix/placement", FORM, FORM_LIMITS.maxBytes],
    ["/api/ping", "application/octet-stream", FORM_LIMITS.maxBytes],
    ["/api/auth/frame", JSON_TYPE, JSON_MAX_BYTES],
  ])("%s: a chunked 300 MB body, no session ⇒ 413 after reading at most its limit", async (route, type, limit) => {
    const sent = await sendHuge(route, type);
    expect(sent.status).toBe(413);
    expect(sent.pulled).toBeLessThanOrEqual(limit + 4 * CHUNK.byteLength);
    expect(sent.peakRss - start).toBeLessThan(100 * MB);
  });

  it.each(["/api/history/export", "/api/history/revert"])("%s: a session's 300 MB JSON body ⇒ 413", async (route) => {
    const sent = await sendHuge(route, JSON_TYPE, { authorization: `Bearer ${adminToken}` });
    expect(sent.status).toBe(413);
    expect(sent.pulled).toBeLessThanOrEqual(JSON_MAX_BYTES + 4 * CHUNK.byteLength);
    expect(sent.peakRss - start).toBeLessThan(100 * MB);
  });

  it("every other POST route refuses a missing session before it reads anything", async () => {
    const covered = [
      "/api/bitrix/events",
      "/api/bitrix/install",
      "/bitrix/app",
      "/bitrix/placement",
      "/api/ping",
      "/api/auth/frame",
      "/api/history/export",
      "/api/history/revert",
    ];
    const posts = discoverRoutes().filter((r) => r.kind === "api" && r.methods.includes("POST"));
    const rest = posts.filter((r) => !covered.includes(r.path));
    expect(rest.map((r) => r.path)).toContain("/api/admin/rebind");
    for (const r of rest) {
      const sent = await sendHuge(r.path, JSON_TYPE, {}, { id: "1" });
      expect(sent.status, r.path).toBe(401);
      expect(sent.pulled, r.path).toBeLessThanOrEqual(4 * CHUNK.byteLength);
    }
    expect(process.memoryUsage.rss() - start).toBeLessThan(100 * MB);
  });
});
