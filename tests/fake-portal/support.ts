// Test helpers for the fake's own tests: an "app" that records every push it receives, and a REST caller.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startFakeBitrix, type FakeOptions } from "./index";
import { parseStr } from "./php";

export const fixture = (p: string) =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../fixtures", p), "utf8"));

export interface Received {
  path: string;
  contentType: string;
  raw: string;
  body: Record<string, unknown>;
}

export async function startRecorder() {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    let raw = "";
    for await (const c of req) raw += c;
    received.push({
      path: req.url ?? "",
      contentType: String(req.headers["content-type"]),
      raw,
      body: parseStr(raw) as Record<string, unknown>,
    });
    res.writeHead(200).end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function startWithRecorder(extra: Partial<FakeOptions> = {}) {
  const app = await startRecorder();
  const running = await startFakeBitrix({
    app: { clientId: "app.test", clientSecret: "secret", appUrl: app.url },
    seed: { deals: 120 },
    ...extra,
  });
  const portal = running.portals[0]!;
  const control = async (route: string, body: unknown = {}, method = "POST") => {
    const res = await fetch(`${portal.baseUrl}/_fake/${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify(body),
    });
    return res.json();
  };
  const frame = async (userId = 1) => (await control("frame-auth", { userId })) as Record<string, string>;
  const rest = async (method: string, params: Record<string, unknown>, token: string) => {
    const res = await fetch(`${portal.clientEndpoint}${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...params, auth: token }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const waitFor = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error("timed out waiting for a delivery");
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    app,
    running,
    portal,
    control,
    frame,
    rest,
    waitFor,
    stop: async () => {
      await running.stop();
      await app.stop();
    },
  };
}

/** Every leaf path of a decoded form body: "auth.member_id", "data.FIELDS.ID", … */
export function keyPaths(o: unknown, prefix = ""): string[] {
  if (o === null || typeof o !== "object") return [prefix];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** Where most fake tests start: the app installed (event mode) and an administrator's frame token. */
export async function startInstalled(extra: Partial<FakeOptions> = {}) {
  const f = await startWithRecorder(extra);
  await f.control("install", { mode: "event" });
  return { f, admin: (await f.frame(1)).AUTH_ID! };
}
