import "server-only";
import type { OAuthTokens } from "@/lib/bitrix/contract";
import { decryptSecret, encryptSecret, keyIdOf, currentKeyId } from "@/lib/crypto";
import { getDb } from "@/lib/db";

// The encrypted token store (docs/decisions/003-token-encryption.md). Plaintext tokens live only in memory.

export interface TokenSnapshot {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  version: number;
  /** the portal's REST address as of these tokens: a portal that moved gets its new one with the next refresh */
  clientEndpoint: string;
}

export async function saveTokens(portalId: string, t: OAuthTokens): Promise<void> {
  const data = {
    accessTokenEnc: encryptSecret(t.accessToken),
    refreshTokenEnc: encryptSecret(t.refreshToken),
    expiresAt: t.expiresAt,
    scope: t.scope.join(","),
    userId: t.userId,
    refreshedAt: new Date(),
    lastRefreshError: null,
  };
  await getDb().tokenSet.upsert({
    where: { portalId },
    create: { portalId, ...data },
    update: { ...data, version: { increment: 1 }, refreshLockedAt: null, refreshLockedBy: null },
  });
}

export async function loadTokens(portalId: string): Promise<TokenSnapshot | null> {
  const row = await getDb().tokenSet.findUnique({
    where: { portalId },
    include: { portal: { select: { clientEndpoint: true } } },
  });
  if (!row) return null;
  return {
    accessToken: decryptSecret(row.accessTokenEnc),
    refreshToken: decryptSecret(row.refreshTokenEnc),
    expiresAt: row.expiresAt,
    version: row.version,
    clientEndpoint: row.portal.clientEndpoint,
  };
}

/** Moves every ciphertext to the current APP_SECRET key (APP_SECRET_PREVIOUS must still decrypt the old ones). */
export async function reencryptAll(): Promise<{ rows: number; moved: number }> {
  const db = getDb();
  const current = currentKeyId();
  const rows = await db.tokenSet.findMany();
  let moved = 0;
  for (const row of rows) {
    if (keyIdOf(row.accessTokenEnc) === current && keyIdOf(row.refreshTokenEnc) === current) continue;
    await db.tokenSet.update({
      where: { portalId: row.portalId, version: row.version },
      data: {
        accessTokenEnc: encryptSecret(decryptSecret(row.accessTokenEnc)),
        refreshTokenEnc: encryptSecret(decryptSecret(row.refreshTokenEnc)),
      },
    });
    moved++;
  }
  return { rows: rows.length, moved };
}
