import type { IncomingMessage, ServerResponse } from "node:http";
import { hex, tokenAnswer } from "./core";
import { parseStr } from "./php";
import { handleRest } from "./rest";
import type { FakeBitrix } from "./types";

// oauth.bitrix.info: /oauth/token/ (GET query or POST form), /oauth/authorize/, and /rest/app.info
// (docs/bitrix24.md#oauth).
export const REFRESH_TOKEN_LIFETIME_MS = 180 * 24 * 3600_000;
const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

function grant(fake: FakeBitrix, p: Record<string, string>): [number, unknown] {
  if (p.client_id !== fake.app.clientId || p.client_secret !== fake.app.clientSecret)
    return [401, { error: "invalid_client", error_description: "Invalid client" }];
  if (p.grant_type === "authorization_code") {
    const code = fake.codes.get(p.code ?? "");
    fake.codes.delete(p.code ?? "");
    if (!code || code.expiresAtMs < fake.clock.nowMs())
      return [400, { error: "invalid_grant", error_description: "Invalid authorization code" }];
    return [200, tokenAnswer(fake, code.portal, code.userId)];
  }
  if (p.grant_type !== "refresh_token")
    return [400, { error: "invalid_request", error_description: "Unsupported grant_type" }];
  const info = fake.refreshTokens.get(p.refresh_token ?? "");
  if (info) info.portal.counters.refreshAttempts++; // every attempt with a token we issued, rotated or not
  if (!info || info.rotated || info.portal.app.disabled || !info.portal.app.installed)
    return [400, { error: "invalid_grant", error_description: "Invalid grant" }];
  // "The refresh_token is valid for 180 days" (b24restdocs settings/oauth/index.md): an unused one dies, by the fake's
  // clock, with the same answer as a spent one.
  if (fake.clock.nowMs() - info.issuedAtMs > REFRESH_TOKEN_LIFETIME_MS)
    return [400, { error: "invalid_grant", error_description: "Refresh token expired" }];
  if (info.portal.app.paymentExpired)
    return [402, { error: "PAYMENT_REQUIRED", error_description: "Payment required" }];
  info.rotated = true; // refresh tokens rotate: this one can never be used again
  info.portal.counters.refreshes++;
  return [200, tokenAnswer(fake, info.portal, info.userId)];
}

export async function handleOAuth(fake: FakeBitrix, req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
  if (url.pathname === "/oauth/token/" || url.pathname === "/oauth/token") {
    const params = { ...Object.fromEntries(url.searchParams), ...(parseStr(body) as Record<string, string>) };
    const [status, answer] = grant(fake, params);
    return json(res, status, answer);
  }
  if (url.pathname === "/oauth/authorize/") {
    const portal = fake.portals.find((p) => p.baseUrl === `http://${req.headers.host}`) ?? fake.portals[0]!;
    if (url.searchParams.get("client_id") !== fake.app.clientId) return json(res, 400, { error: "invalid_client" });
    const code = hex();
    fake.codes.set(code, { portal, userId: 1, expiresAtMs: fake.clock.nowMs() + 30_000 });
    const back = new URL(fake.app.appUrl);
    Object.entries({
      code,
      state: url.searchParams.get("state") ?? "",
      domain: portal.domain,
      member_id: portal.memberId,
      scope: fake.app.scopes.join(","),
      server_domain: new URL(fake.oauthUrl).host,
    }).forEach(([k, v]) => back.searchParams.set(k, v));
    return res.writeHead(302, { location: back.toString() }).end();
  }
  if (url.pathname.startsWith("/rest/app.info")) {
    const token = url.searchParams.get("auth") ?? (parseStr(body).auth as string | undefined) ?? "";
    const info = fake.tokens.get(token);
    if (!info) return json(res, 401, { error: "invalid_token", error_description: "Token expired or invalid" });
    return handleRest(fake, info.portal, req, res, url, body);
  }
  json(res, 404, { error: "not_found" });
}
