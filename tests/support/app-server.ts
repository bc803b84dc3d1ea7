// Serves the app's Bitrix24-facing route handlers over real HTTP inside the test process, so the fake Bitrix24's
// pushes (installer POSTs, events) reach the same code a deployed app runs.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

type Handler = (req: Request) => Promise<Response> | Response;

async function toRequest(req: IncomingMessage, base: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? "/", base), {
    method: req.method,
    headers,
    body: req.method === "GET" ? undefined : body,
  });
}

export async function startAppServer() {
  const [install, events, ping] = await Promise.all([
    import("@/app/api/bitrix/install/route"),
    import("@/app/api/bitrix/events/route"),
    import("@/app/api/ping/route"),
  ]);
  const routes: Record<string, Handler> = {
    "POST /api/bitrix/install": install.POST,
    "POST /api/bitrix/events": events.POST,
    "GET /api/ping": ping.GET,
  };
  let base = "";
  const server = createServer(async (req, res) => {
    const handler = routes[`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`];
    if (!handler) return void res.writeHead(404).end();
    const response = await handler(await toRequest(req, base));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
