// Creates an installed portal row with stored tokens, as the install flow leaves it.
import { randomBytes } from "node:crypto";
import { getDb } from "@/lib/db";
import { saveTokens } from "@/lib/portals/tokens";
import { sha256Hex } from "@/lib/crypto";

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires: number;
  scope: string;
  member_id?: string;
}

export async function createInstalledPortal(opts: {
  endpoint: string;
  tokens: TokenAnswer;
  burst?: number;
  drain?: number;
  serverEndpoint?: string;
  applicationToken?: string;
}) {
  const memberId = randomBytes(16).toString("hex");
  const portal = await getDb().portal.create({
    data: {
      memberId,
      domain: new URL(opts.endpoint).host,
      clientEndpoint: `${opts.endpoint}/rest/`,
      serverEndpoint: opts.serverEndpoint ?? `${opts.endpoint}/rest/`,
      installStage: "finished",
      rateBurst: opts.burst ?? 50,
      rateDrainPerSec: opts.drain ?? 2,
      applicationTokenHash: sha256Hex(opts.applicationToken ?? randomBytes(16).toString("hex")),
    },
  });
  await saveTokens(portal.id, {
    accessToken: opts.tokens.access_token,
    refreshToken: opts.tokens.refresh_token,
    expiresAt: new Date(opts.tokens.expires * 1000),
    scope: opts.tokens.scope.split(","),
    memberId,
    clientEndpoint: portal.clientEndpoint,
    serverEndpoint: portal.serverEndpoint,
    domain: null,
    userId: 1,
    status: "L",
  });
  return portal;
}
