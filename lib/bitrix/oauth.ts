import "server-only";
import { BitrixError } from "@/lib/bitrix/errors";
import { sendJson, joinUrl, assertAllowedUrl } from "@/lib/bitrix/http";
import { B24ErrorSchema, B24OAuthTokenSchema } from "@/lib/bitrix/schemas";
import type { OAuthTokens } from "@/lib/bitrix/contract";
import { loadEnv } from "@/lib/env";

// OAuth grants at the portal's regional OAuth server (docs/bitrix24.md#oauth-servers, #oauth). Our client secret is
// only ever sent to an origin listed in BITRIX_OAUTH_ALLOWED: a request body never chooses where the secret goes.

export function allowedOAuthOrigin(serverEndpoint: string | undefined | null): string {
  const raw = serverEndpoint || loadEnv().BITRIX_OAUTH_URL;
  const url = assertAllowedUrl(raw, "server_endpoint");
  if (!loadEnv().BITRIX_OAUTH_ALLOWED.includes(url.origin)) {
    throw new BitrixError(
      "OAUTH_SERVER_NOT_ALLOWED",
      0,
      `${url.origin} is not in BITRIX_OAUTH_ALLOWED`,
      undefined,
      "config",
    );
  }
  return url.origin;
}

async function grant(serverEndpoint: string | null | undefined, params: Record<string, string>): Promise<OAuthTokens> {
  const env = loadEnv();
  const origin = allowedOAuthOrigin(serverEndpoint);
  const body = { ...params, client_id: env.BITRIX_CLIENT_ID, client_secret: env.BITRIX_CLIENT_SECRET };
  // Form POST, as the official JS SDK does (the docs show GET with the secret in the query string, which ends up in logs).
  const raw = await sendJson(joinUrl(origin, "/oauth/token/"), body, {
    form: true,
    method: `oauth:${params.grant_type}`,
    timeoutMs: 20_000,
    log: { lane: "oauth" }, // the REST log redacts the secret and the tokens (lib/bitrix/redact.ts)
  });
  const err = B24ErrorSchema.safeParse(raw.data);
  if (err.success)
    throw new BitrixError(err.data.error, raw.status, err.data.error_description ?? "", `oauth:${params.grant_type}`);
  const ok = B24OAuthTokenSchema.safeParse(raw.data);
  if (!ok.success) {
    throw new BitrixError(
      "MALFORMED_RESPONSE",
      raw.status,
      "the OAuth server's answer is not a token response",
      `oauth:${params.grant_type}`,
      "malformed",
    );
  }
  const t = ok.data;
  const expiresAt = new Date((t.expires ? t.expires : Math.floor(Date.now() / 1000) + t.expires_in) * 1000);
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    expiresAt,
    scope: t.scope.split(/[,\s]+/).filter(Boolean),
    memberId: t.member_id,
    clientEndpoint: t.client_endpoint,
    serverEndpoint: t.server_endpoint,
    domain: t.domain ?? null,
    userId: t.user_id ?? null,
    status: t.status ?? null,
  };
}

// Answers of a server that does not know this token or this app: another regional server may (the token is not
// spent by a refusal). Anything else (PAYMENT_REQUIRED, a malformed answer) is that server's word and is final.
const NOT_HERE = new Set(["invalid_grant", "invalid_client", "wrong_client", "invalid_token", "NO_AUTH_FOUND"]);

/**
 * Without a server_endpoint — Bitrix24's core installer and frame forms carry none (docs/lifecycle.md) — the token
 * is offered to the configured servers of BITRIX_OAUTH_ALLOWED in order: never to a host a request names.
 */
async function grantAnywhere(params: Record<string, string>): Promise<OAuthTokens> {
  let last: unknown;
  for (const origin of loadEnv().BITRIX_OAUTH_ALLOWED) {
    try {
      return await grant(origin, params);
    } catch (e) {
      if (!(e instanceof BitrixError) || !(NOT_HERE.has(e.code) || e.kind === "network")) throw e;
      last = e;
    }
  }
  throw last ?? new BitrixError("OAUTH_SERVER_NOT_ALLOWED", 0, "BITRIX_OAUTH_ALLOWED is empty", undefined, "config");
}

export function exchangeRefreshToken(
  serverEndpoint: string | null | undefined,
  refreshToken: string,
): Promise<OAuthTokens> {
  const params = { grant_type: "refresh_token", refresh_token: refreshToken };
  return serverEndpoint ? grant(serverEndpoint, params) : grantAnywhere(params);
}
