// A small HTTP stand-in for one Bitrix24 portal + its OAuth server, for the lib/bitrix client tests: real response
// shapes (tests/fixtures, copied from Bitrix24's documented examples), and everything counted on the SERVER side
// (refreshes, requests, 503s, request times) so tests prove behaviour the way Bitrix24 would see it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

const FIX = path.resolve(import.meta.dirname, "../fixtures");
const fixture = (p: string) => JSON.parse(readFileSync(path.join(FIX, p), "utf8"));
const tok = () => randomBytes(16).toString("hex");

export interface StandinOptions { clientId: string; clientSecret: string; memberId?: string; items?: number; burst?: number; drain?: number }
type Forced = { status: number; body: unknown } | "drop" | "html";

export function startStandin(opts: StandinOptions) {
  const memberId = opts.memberId ?? "a223c6b3710f85df22e9377d6c4f7553";
  const state = {
    access: new Map<string, number>(), // token -> expiry (ms)
    refreshToken: tok(),
    usedRefreshTokens: [] as string[],
    refreshes: 0,
    refreshDelayMs: 80,
    oauthError: null as null | { status: number; error: string; error_description?: string },
    bucket: { burst: opts.burst ?? 50, drain: opts.drain ?? 2, level: 0, at: Date.now() },
    served503: 0,
    calls: [] as { method: string; at: number; status: number }[],
    forced: [] as Forced[],
    forcedByMethod: new Map<string, Forced[]>(),
    items: opts.items ?? 200,
  };
  const now = () => Date.now();
  let baseUrl = "";

  function issue() {
    const access = tok();
    state.access.set(access, now() + 3600_000);
    const base = fixture("oauth/token.refresh_token.response.docs.json");
    state.refreshToken = tok();
    return { ...base, access_token: access, refresh_token: state.refreshToken, expires: Math.floor(now() / 1000) + 3600,
      client_endpoint: `${baseUrl}/rest/`, server_endpoint: `${baseUrl}/rest/`, member_id: memberId, domain: new URL(baseUrl).host };
  }

  function send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }

  async function oauth(req: IncomingMessage, res: ServerResponse, body: string) {
    const q = new URLSearchParams(body || new URL(req.url!, baseUrl).search);
    await new Promise((r) => setTimeout(r, state.refreshDelayMs));
    if (q.get("client_id") !== opts.clientId || q.get("client_secret") !== opts.clientSecret) return send(res, 401, { error: "invalid_client", error_description: "Invalid client" });
    if (state.oauthError) return send(res, state.oauthError.status, state.oauthError);
    const rt = q.get("refresh_token") ?? "";
    state.usedRefreshTokens.push(rt);
    if (rt !== state.refreshToken) return send(res, 400, { error: "invalid_grant", error_description: "Invalid grant" });
    state.refreshes++;
    return send(res, 200, issue());
  }

  function leak(): boolean {
    const b = state.bucket;
    b.level = Math.max(0, b.level - ((now() - b.at) / 1000) * b.drain);
    b.at = now();
    if (b.level + 1 > b.burst) return false;
    b.level += 1;
    return true;
  }

  function deals(filter: Record<string, unknown>): unknown[] {
    const after = Number(filter[">ID"] ?? 0);
    const out = [];
    for (let id = after + 1; id <= state.items && out.length < 50; id++) out.push({ ID: String(id), TITLE: `Deal ${id}` });
    return out;
  }

  function runMethod(method: string, params: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const time = fixture("rest/time.full.docs.json").time ?? { start: now() / 1000 };
    switch (method) {
      case "user.current": return { status: 200, body: { ...fixture("rest/success.user.current.docs.json"), time } };
      case "crm.deal.list": return { status: 200, body: { result: deals((params.filter as Record<string, unknown>) ?? {}), time } };
      case "crm.deal.get": return { status: 200, body: { result: { ID: String(params.id ?? params.ID), TITLE: "Deal" }, time } };
      case "crm.deal.add": return { status: 200, body: { result: 101, time } };
      case "batch": return { status: 200, body: { result: runBatch(params), time } };
      default: return { status: 404, body: { error: "ERROR_METHOD_NOT_FOUND", error_description: "Method not found!" } };
    }
  }

  function runBatch(params: Record<string, unknown>) {
    const cmd = params.cmd as Record<string, string>;
    const result: Record<string, unknown> = {};
    const errors: Record<string, unknown> = {};
    for (const [key, line] of Object.entries(cmd)) {
      const [m, q = ""] = line.split("?");
      const sub = parsePhp(q.replace(/\$result\[([^\]]+)\]((?:\[[^\]]+\])*)/g, (_, k: string, rest: string) => {
        let v: unknown = result[k];
        for (const p of rest.slice(1, -1).split("][").filter(Boolean)) v = (v as Record<string, unknown>)?.[p];
        return encodeURIComponent(String(v));
      }));
      const r = runMethod(m!, sub);
      if (r.status === 200) result[key] = r.body.result;
      else errors[key] = r.body;
    }
    return { result, result_error: Object.keys(errors).length ? errors : [], result_total: [], result_next: [], result_time: [] };
  }

  const server = createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const url = new URL(req.url!, baseUrl);
    if (url.pathname === "/oauth/token/") return oauth(req, res, body);
    const method = url.pathname.replace(/^\/rest\//, "").replace(/\.json$/, "");
    const forced = state.forcedByMethod.get(method)?.shift() ?? state.forced.shift();
    if (!leak()) {
      state.served503++;
      state.calls.push({ method, at: now(), status: 503 });
      return send(res, 503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" });
    }
    if (forced === "drop") { state.calls.push({ method, at: now(), status: 0 }); return req.socket.destroy(); }
    if (forced === "html") { state.calls.push({ method, at: now(), status: 502 }); return res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad gateway</html>"); }
    if (forced) { state.calls.push({ method, at: now(), status: forced.status }); return send(res, forced.status, forced.body); }
    const params = JSON.parse(body || "{}") as Record<string, unknown>;
    const exp = state.access.get(String(params.auth));
    if (exp === undefined) { state.calls.push({ method, at: now(), status: 401 }); return send(res, 401, { error: "invalid_token", error_description: "Token expired or invalid" }); }
    if (exp < now()) { state.calls.push({ method, at: now(), status: 401 }); return send(res, 401, { error: "expired_token", error_description: "The access token provided has expired" }); }
    const r = runMethod(method, params);
    state.calls.push({ method, at: now(), status: r.status });
    send(res, r.status, r.body);
  });

  return new Promise<{ url: string; state: typeof state; issue: typeof issue; expireAll(): void; stop(): Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({
        url: baseUrl,
        state,
        issue,
        expireAll: () => { for (const k of state.access.keys()) state.access.set(k, 0); },
        stop: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

/** PHP parse_str for batch sub-queries (one level of brackets is enough here). */
function parsePhp(q: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(q)) {
    const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(k);
    if (!m) continue;
    const keys = [m[1]!, ...(m[2]!.match(/\[([^\]]*)\]/g) ?? []).map((s) => s.slice(1, -1))];
    let node = out;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) node[key] = v;
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}
