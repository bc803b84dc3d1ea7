import type { IncomingMessage, ServerResponse } from "node:http";
import { E, RestError } from "./errors";
import { addressMethods } from "./methods-address";
import { crmMethods } from "./methods-crm";
import { fileMethods, finishDiskUpload, multipartFile } from "./methods-files";
import { heldCall } from "./holds";
import { itemFileDownload } from "./item-file-download";
import { eventMethods } from "./methods-events";
import { itemMethods } from "./methods-items";
import { knownMethod, systemMethods } from "./methods-system";
import { parseStr } from "./php";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { FakeBitrix, PortalState } from "./types";
import { notifyMethods } from "./methods-notify";

// /rest/<method>[.json], /rest/api/<method> (v3), /rest/<user>/<secret>/<method> (webhook), /rest/upload.json,
// /rest/crm.controller.item.getFile.json (a CRM file's urlMachine, item-file-download.ts).
// methods-items.ts comes after crmMethods and eventMethods: it extends crm.category.list and placement.list.
export const METHODS: MethodTable = {
  ...crmMethods,
  ...addressMethods,
  ...fileMethods,
  ...eventMethods,
  ...itemMethods,
  ...notifyMethods,
  ...systemMethods(() => METHODS),
  batch: () => null,
};

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "content-type, authorization",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};

function timeBlock(fake: FakeBitrix, startMs: number, op?: { seconds: number; resetAt: number }) {
  const finish = fake.clock.nowMs();
  return {
    start: startMs / 1000,
    finish: finish / 1000,
    duration: (finish - startMs) / 1000,
    processing: (finish - startMs) / 1000,
    date_start: fake.clock.iso(startMs),
    date_finish: fake.clock.iso(finish),
    ...(op ? { operating_reset_at: op.resetAt, operating: op.seconds } : {}),
  };
}

export function readParams(req: IncomingMessage, url: URL, body: string): Record<string, unknown> {
  const query = parseStr(url.search.slice(1)) as Record<string, unknown>;
  const type = String(req.headers["content-type"] ?? "");
  if (!body) return query;
  if (type.includes("json")) return { ...query, ...(JSON.parse(body) as Record<string, unknown>) };
  return { ...query, ...(parseStr(body) as Record<string, unknown>) };
}

function authenticate(
  fake: FakeBitrix,
  portal: PortalState,
  req: IncomingMessage,
  params: Record<string, unknown>,
  webhook: { userId: number; secret: string } | null,
): Ctx {
  if (webhook) {
    if (webhook.secret !== portal.webhook.secret || webhook.userId !== portal.webhook.userId)
      throw new RestError(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    return {
      fake,
      portal,
      userId: webhook.userId,
      token: "",
      isAdmin: portal.users.get(webhook.userId)?.ADMIN ?? false,
      viaWebhook: true,
    };
  }
  const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
  const token = String(bearer ?? params.auth ?? params.access_token ?? "");
  if (!token) throw E.noAuth();
  const info = fake.tokens.get(token);
  if (!info || info.portal !== portal) throw E.invalidToken();
  if (info.expiresAtMs <= fake.clock.nowMs()) throw E.expired();
  if (portal.app.paymentExpired) throw E.payment();
  return {
    fake,
    portal,
    userId: info.userId,
    token,
    isAdmin: portal.users.get(info.userId)?.ADMIN ?? false,
    viaWebhook: false,
    connector: params.auth_connector ? String(params.auth_connector) : undefined,
  };
}

function takeBucket(portal: PortalState, now: number): boolean {
  const b = portal.bucket;
  b.level = Math.max(0, b.level - ((now - b.at) / 1000) * b.drain);
  b.at = now;
  if (b.level + 1 > b.burst) return false;
  b.level += 1;
  return true;
}

/** One method call with every Bitrix24 check; returns the result and the method's operating counter. */
function invoke(ctx: Ctx, method: string, params: Record<string, unknown>) {
  const { portal, fake } = ctx;
  const name = method.toLowerCase();
  const fn = METHODS[name];
  const known = knownMethod(ctx, name, METHODS);
  if (!fn || !known.isExisting) throw E.notFound();
  if (!known.isAvailable) throw E.scope();
  const injected = portal.faults.methodErrors[name];
  // the statuses Bitrix24 gives these codes (docs/bitrix24.md#rate-limits): 503 for the bucket, 429 for operating time
  const status = { QUERY_LIMIT_EXCEEDED: 503, OPERATION_TIME_LIMIT: 429 }[injected ?? ""] ?? 400;
  if (injected) throw new RestError(status, injected, "injected fault");
  if (portal.methodOverrides.get(name)?.confirm === "required" && !ctx.viaWebhook) {
    const key = `${ctx.token}|${name}`;
    const decision = portal.confirmations.get(key);
    if (decision === "denied") throw E.confirmDenied();
    if (decision !== "confirmed") {
      portal.confirmations.set(key, "pending");
      throw E.waiting();
    }
  }
  const now = fake.clock.nowMs();
  let op = portal.operating.get(name);
  if (!op || op.resetAt * 1000 <= now) op = { seconds: 0, resetAt: Math.floor(now / 1000) + 600 };
  if (op.seconds >= portal.operatingLimit) throw E.operating();
  const result = fn(ctx, params);
  op.seconds = Math.round((op.seconds + (name.endsWith(".list") ? 0.05 : 0.01)) * 1000) / 1000;
  portal.operating.set(name, op);
  portal.counters.rest[name] = (portal.counters.rest[name] ?? 0) + 1;
  return { result, op };
}

function resolveRefs(query: string, results: Record<string, unknown>): string {
  return query.replace(/\$result\[([^\]]+)\]((?:\[[^\]]*\])*)/g, (_, key: string, path: string) => {
    let v: unknown = results[key];
    for (const part of (path.match(/\[([^\]]*)\]/g) ?? []).map((s) => s.slice(1, -1)))
      v = (v as Record<string, unknown> | undefined)?.[part];
    return encodeURIComponent(v === undefined || v === null ? "" : String(v));
  });
}

function runBatch(ctx: Ctx, params: Record<string, unknown>) {
  const cmd = (params.cmd ?? params.CMD ?? {}) as Record<string, string>;
  const halt = ["1", "true", "Y"].includes(String(params.halt ?? params.HALT ?? "0"));
  const out = {
    result: {} as Record<string, unknown>,
    result_error: {} as Record<string, unknown>,
    result_total: {} as Record<string, number>,
    result_next: {} as Record<string, number>,
    result_time: {} as Record<string, unknown>,
  };
  Object.entries(cmd).forEach(([key, line], i) => {
    if (halt && Object.keys(out.result_error).length) return;
    const [method = "", query = ""] = String(line).split(/\?(.*)/s);
    const started = ctx.fake.clock.nowMs();
    try {
      if (i >= 50) throw new RestError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");
      if (["batch", "upload", "download"].includes(method.toLowerCase()))
        throw new RestError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage");
      const { result } = invoke(ctx, method, parseStr(resolveRefs(query, out.result)) as Record<string, unknown>);
      if (result instanceof ListAnswer) {
        out.result[key] = result.result;
        if (result.total !== undefined) out.result_total[key] = result.total;
        if (result.next !== undefined) out.result_next[key] = result.next;
      } else out.result[key] = result;
      out.result_time[key] = timeBlock(ctx.fake, started);
    } catch (e) {
      if (!(e instanceof RestError)) throw e;
      out.result_error[key] = { error: e.error, error_description: e.description };
    }
  });
  const php = (o: Record<string, unknown>) => (Object.keys(o).length ? o : []); // empty PHP maps serialise as []
  return {
    result: php(out.result),
    result_error: php(out.result_error),
    result_total: php(out.result_total),
    result_next: php(out.result_next),
    result_time: php(out.result_time),
  };
}

export async function handleRest(
  fake: FakeBitrix,
  portal: PortalState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: string,
) {
  const send = (status: number, payload: unknown) =>
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...cors }).end(JSON.stringify(payload));
  if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
  const v3 = url.pathname.startsWith("/rest/api/");
  const hook = /^\/rest\/(\d+)\/([^/]+)\/(.+)$/.exec(url.pathname);
  const method = (v3 ? url.pathname.slice("/rest/api/".length) : hook ? hook[3]! : url.pathname.slice("/rest/".length))
    .replace(/\.json$/, "")
    .toLowerCase();
  const held = heldCall(portal, method, `${url.search} ${body}`, () => readParams(req, url, body)); // holds.ts
  if (held && (await held) === "drop") return void req.socket.destroy();
  const started = fake.clock.nowMs();
  const [lo, hi] = portal.faults.latencyMs[1] > 0 ? portal.faults.latencyMs : fake.latencyMs;
  if (hi > 0) await new Promise((r) => setTimeout(r, lo + Math.random() * (hi - lo)));
  try {
    if (method === "upload")
      return send(200, { result: await finishUpload(fake, portal, url, req), time: timeBlock(fake, started) });
    const scripted = portal.faults.script.shift();
    if (scripted === "drop") return void req.socket.destroy();
    if (scripted === "html")
      return void res.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>");
    if (scripted) return send(scripted.status, scripted.body);
    const params = readParams(req, url, body);
    if (v3 && !String(req.headers["content-type"] ?? "").includes("json") && body)
      throw new RestError(400, "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION", "Invalid JSON");
    if (portal.faults.fail503 > 0 && Math.random() < portal.faults.fail503) throw E.limit();
    if (!takeBucket(portal, Date.now())) {
      portal.counters.served503++;
      throw E.limit();
    }
    const ctx = authenticate(fake, portal, req, params, hook ? { userId: Number(hook[1]), secret: hook[2]! } : null);
    logUser(portal, ctx.userId);
    if (method === "batch") return send(200, { result: runBatch(ctx, params), time: timeBlock(fake, started) });
    if (method === "crm.controller.item.getfile") {
      portal.counters.rest[method] = (portal.counters.rest[method] ?? 0) + 1;
      const file = itemFileDownload(ctx, params, req.method ?? "GET", req.headers.range);
      return void res.writeHead(file.status, file.headers).end(file.body);
    }
    const { result, op } = invoke(ctx, method, params);
    const envelope =
      result instanceof ListAnswer
        ? {
            result: result.result,
            ...(result.total !== undefined ? { total: result.total } : {}),
            ...(result.next !== undefined ? { next: result.next } : {}),
          }
        : { result: v3 ? { item: result } : result };
    send(200, { ...envelope, time: timeBlock(fake, started, op) });
  } catch (e) {
    if (!(e instanceof RestError)) {
      send(500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal server error" });
      throw e;
    }
    send(
      e.status,
      v3
        ? { error: { code: e.error, message: e.description } }
        : { error: e.error, error_description: e.description, ...e.extra },
    );
  }
}

function logUser(portal: PortalState, userId: number) {
  const last = portal.log.at(-1);
  if (last && last.userId === undefined) last.userId = userId;
}

/** Step 2 of a Drive upload: the multipart POST to the uploadUrl from step 1 (docs/bitrix24.md#uploads). */
async function finishUpload(fake: FakeBitrix, portal: PortalState, url: URL, req: IncomingMessage) {
  const token = url.searchParams.get("token") ?? "";
  const folder = portal.disk.uploads.get(token);
  const info = fake.tokens.get(url.searchParams.get("auth") ?? "");
  if (folder === undefined || !info) throw E.invalidToken();
  portal.disk.uploads.delete(token);
  const raw = (req as IncomingMessage & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
  const file = multipartFile(raw, String(req.headers["content-type"] ?? ""));
  if (!file) throw E.arg("No file in the multipart body", "file");
  return finishDiskUpload({ fake, portal, userId: info.userId }, token, folder, file);
}
