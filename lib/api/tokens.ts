import "server-only";
import { randomBytes } from "node:crypto";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";

// Tokens of the JSON API (docs/api.md): an admin creates one on the admin page for a BI tool or a script; it reads
// its own portal's history only. The plain token (`chb_` + 32 random bytes, base64url) is shown once; only its
// sha256 is stored, so a database dump gives no working token. Each token may make RATE_PER_MIN requests in a fixed
// one-minute window, counted by one atomic UPDATE, so any number of web processes share the count.
export const RATE_PER_MIN = 120;
const PREFIX = "chb_";
const MAX_TOKENS_PER_PORTAL = 20;

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}
export interface ApiCaller {
  portalId: string;
  tokenId: string;
}

export async function createApiToken(
  portalId: string,
  name: string,
  createdById: number,
): Promise<ApiTokenInfo & { token: string }> {
  const db = getDb();
  if ((await db.apiToken.count({ where: { portalId, revokedAt: null } })) >= MAX_TOKENS_PER_PORTAL) {
    throw new AppError(
      409,
      "too_many_tokens",
      `A portal may have at most ${MAX_TOKENS_PER_PORTAL} API tokens; revoke one first`,
    );
  }
  const token = PREFIX + randomBytes(32).toString("base64url");
  const row = await db.apiToken.create({ data: { portalId, name, tokenHash: sha256Hex(token), createdById } });
  return { id: row.id, name: row.name, createdAt: row.createdAt, lastUsedAt: null, token };
}

export function listApiTokens(portalId: string): Promise<ApiTokenInfo[]> {
  return getDb().apiToken.findMany({
    where: { portalId, revokedAt: null },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, createdAt: true, lastUsedAt: true },
  });
}

/** Revokes one of the portal's tokens; another portal's id is "not found", as an unknown one is. */
export async function revokeApiToken(portalId: string, id: string): Promise<void> {
  const { count } = await getDb().apiToken.updateMany({
    where: { id, portalId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count !== 1) throw new AppError(404, "not_found", "No such API token");
}

/**
 * The caller of an API request: `Authorization: Bearer chb_…` of a live token whose portal is active, counted
 * against the token's window. 401 without a usable token (the same answer for a missing, unknown or revoked one);
 * 429 with `retryAfterS` once the window is spent.
 */
export async function authenticateApiRequest(req: Request): Promise<ApiCaller> {
  const header = req.headers.get("authorization") ?? "";
  const token = /^Bearer\s+(chb_[A-Za-z0-9_-]{20,100})$/.exec(header)?.[1];
  if (!token) throw new AppError(401, "unauthorized", "Send an API token: Authorization: Bearer chb_…");
  const rows = await getDb().$queryRaw<{ id: string; portalId: string; count: number; retryAfterS: number }[]>`
    UPDATE "ApiToken" t SET
      "windowStart" = CASE WHEN t."windowStart" <= now() - interval '1 minute' THEN now() ELSE t."windowStart" END,
      "windowCount" = CASE WHEN t."windowStart" <= now() - interval '1 minute' THEN 1 ELSE t."windowCount" + 1 END,
      "lastUsedAt" = now()
    FROM "Portal" p
    WHERE t."tokenHash" = ${sha256Hex(token)} AND t."revokedAt" IS NULL AND p.id = t."portalId" AND p.status = 'active'
    RETURNING t.id, t."portalId", t."windowCount" AS count,
      GREATEST(1, CEIL(EXTRACT(EPOCH FROM t."windowStart" + interval '1 minute' - now())))::int AS "retryAfterS"`;
  const row = rows[0];
  if (!row)
    throw new AppError(
      401,
      "unauthorized",
      "This API token is not valid (revoked, unknown, or its portal is not active)",
    );
  if (row.count > RATE_PER_MIN) {
    throw new AppError(429, "rate_limited", `At most ${RATE_PER_MIN} requests a minute per token`, {
      retryAfterS: row.retryAfterS,
    });
  }
  return { portalId: row.portalId, tokenId: row.id };
}
