import "server-only";
import { randomUUID } from "node:crypto";
import type { OAuthTokens } from "@/lib/bitrix/contract";
import { BitrixError } from "@/lib/bitrix/errors";
import { assertAllowedUrl } from "@/lib/bitrix/http";
import { exchangeRefreshToken } from "@/lib/bitrix/oauth";
import { sleep } from "@/lib/sleep";
import { encryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { bumpMetric } from "@/lib/metrics/bump";
import { clearAppAlerts, raiseAppAlert } from "@/lib/portals/alerts";
import { markPortalTerminal } from "@/lib/portals/portals";
import { loadTokens, type TokenSnapshot } from "@/lib/portals/tokens";
import { errorMessage } from "@/lib/error-message";

// Exactly one refresh per portal at a time across all processes and machines (refresh tokens rotate: a second
// refresh with the same token fails with invalid_grant, docs/bitrix24.md#oauth). A process takes a lease on the
// TokenSet row with compare-and-swap on `version`; the others wait for the version to move and use the new pair. The
// lease outlives the refresh request's timeout, so two holders can never send the same refresh token.
const LEASE_MS = 45_000;
const WORKER = `${process.pid}-${randomUUID().slice(0, 8)}`;

async function takeLease(portalId: string, seenVersion: number): Promise<boolean> {
  const n = await getDb()
    .$executeRaw`UPDATE "TokenSet" SET "refreshLockedAt" = clock_timestamp(), "refreshLockedBy" = ${WORKER}
    WHERE "portalId" = ${portalId} AND version = ${seenVersion}
      AND ("refreshLockedAt" IS NULL OR "refreshLockedAt" < clock_timestamp() - make_interval(secs => ${LEASE_MS / 1000}))`;
  return n === 1;
}

/**
 * A portal can change its address (docs/bitrix24.md#domain-change): the OAuth server's answer to OUR refresh names the
 * current client_endpoint, so it is stored with every refresh — only from that answer, only for the same member_id, and
 * only an address the client accepts (https unless BITRIX_ALLOW_HTTP). Event bodies also name an address: never used.
 */
async function persistAddress(portalId: string, t: OAuthTokens): Promise<string | null> {
  try {
    assertAllowedUrl(t.clientEndpoint, "client_endpoint");
  } catch {
    log.warn({ portalId }, "refresh answer named an unusable client_endpoint; keeping the stored one");
    return null;
  }
  const n = await getDb().$executeRaw`UPDATE "Portal" SET "clientEndpoint" = ${t.clientEndpoint},
      domain = ${new URL(t.clientEndpoint).host}, "updatedAt" = clock_timestamp()
    WHERE id = ${portalId} AND "memberId" = ${t.memberId} AND "clientEndpoint" IS DISTINCT FROM ${t.clientEndpoint}`;
  if (n === 1) log.info({ portalId, clientEndpoint: t.clientEndpoint }, "portal address changed");
  return n === 1 ? t.clientEndpoint : null;
}

async function persistRotated(portalId: string, seenVersion: number, t: OAuthTokens) {
  // Persisted atomically, guarded by the lease, before the failed call is retried.
  const n = await getDb().$executeRaw`UPDATE "TokenSet" SET "accessTokenEnc" = ${encryptSecret(t.accessToken)},
      "refreshTokenEnc" = ${encryptSecret(t.refreshToken)}, "expiresAt" = ${t.expiresAt}, scope = ${t.scope.join(",")},
      version = version + 1, "refreshedAt" = clock_timestamp(), "refreshLockedAt" = NULL, "refreshLockedBy" = NULL,
      "lastRefreshError" = NULL, "updatedAt" = clock_timestamp()
    WHERE "portalId" = ${portalId} AND version = ${seenVersion} AND "refreshLockedBy" = ${WORKER}`;
  if (n !== 1)
    throw new BitrixError(
      "REFRESH_LOST",
      0,
      "the token row changed while refreshing",
      "oauth:refresh_token",
      "unknown",
    );
}

async function releaseLease(portalId: string, error: string) {
  await getDb()
    .$executeRaw`UPDATE "TokenSet" SET "refreshLockedAt" = NULL, "refreshLockedBy" = NULL, "lastRefreshError" = ${error}
    WHERE "portalId" = ${portalId} AND "refreshLockedBy" = ${WORKER}`;
}

async function doRefresh(portalId: string, current: TokenSnapshot, serverEndpoint: string): Promise<TokenSnapshot> {
  try {
    const t = await exchangeRefreshToken(serverEndpoint, current.refreshToken);
    // The address first: a process that sees the new version then also reads the new address (loadTokens).
    const moved = await persistAddress(portalId, t);
    await persistRotated(portalId, current.version, t);
    bumpMetric(portalId, "rest.refreshes");
    await clearAppAlerts();
    log.info({ portalId, version: current.version + 1 }, "tokens refreshed");
    const clientEndpoint = moved ?? current.clientEndpoint;
    return {
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      expiresAt: t.expiresAt,
      version: current.version + 1,
      clientEndpoint,
    };
  } catch (e) {
    await releaseLease(portalId, errorMessage(e));
    if (e instanceof BitrixError && e.kind === "config")
      await raiseAppAlert(e.code, portalId); // ours, not the tenant's
    else if (e instanceof BitrixError && e.code.toUpperCase() === "INVALID_GRANT") {
      // Our refresh token is refused — after an answer lost on the way back (the server rotated it, we never saw the
      // new one), or after 180 days unused. The next admin to open the app brings a REFRESH_ID that re-arms it.
      await markPortalTerminal(portalId, "needs_reauth", e.code);
    } else if (e instanceof BitrixError && e.kind === "terminal") {
      const status = e.code.toUpperCase() === "PAYMENT_REQUIRED" ? "payment_required" : "disabled";
      await markPortalTerminal(portalId, status, e.code);
    }
    throw e;
  }
}

/**
 * Returns tokens newer than `seenVersion`: refreshes them if this process wins the lease, otherwise waits for the
 * winner's rotated pair. Never sends a refresh token whose version already moved.
 */
export async function refreshTokens(
  portalId: string,
  seenVersion: number,
  serverEndpoint: string,
): Promise<TokenSnapshot> {
  const deadline = Date.now() + LEASE_MS + 5_000;
  while (Date.now() < deadline) {
    const current = await loadTokens(portalId);
    if (!current)
      throw new BitrixError(
        "NO_TOKENS",
        0,
        "no stored tokens for this portal (install not finished?)",
        undefined,
        "terminal",
      );
    if (current.version !== seenVersion) return current;
    if (await takeLease(portalId, seenVersion)) return doRefresh(portalId, current, serverEndpoint);
    await sleep(50 + Math.random() * 50);
  }
  throw new BitrixError(
    "REFRESH_TIMEOUT",
    0,
    "another process holds the refresh lease for too long",
    "oauth:refresh_token",
    "unknown",
  );
}
