import "server-only";
import { z } from "zod";
import { isBitrixError } from "@/lib/bitrix";
import { callLimited } from "@/lib/auth/user-rights";
import { SIGN_IN_STATUSES } from "@/lib/portals/portals";
import { sha256Hex, safeEqual } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { limitFrameVerify } from "@/lib/auth/verify-limit";
import { recordAuthFailure } from "@/lib/metrics/auth-failures";
import type { PortalSession } from "@/lib/auth/session";

// The frame's auth (the placement/app POST, or the same from B24Frame) is verified on the server before a session is
// issued: the portal must be installed and active, APPLICATION_TOKEN (when present) must match in constant time, and
// the access token must be accepted by THAT portal's stored client_endpoint — never an endpoint from the request.
export const FrameAuthSchema = z.object({
  AUTH_ID: z.string().min(8).max(512),
  member_id: z.string().regex(/^[a-zA-Z0-9]{1,64}$/, "must be a member_id"),
  APPLICATION_TOKEN: z.string().min(1).max(128).optional(),
  /** seconds the AUTH_ID stays valid (the core form's AUTH_EXPIRES); the session never outlives it */
  AUTH_EXPIRES: z.coerce.number().int().positive().max(86_400).optional(),
  DOMAIN: z.string().max(255).optional(),
  LANG: z.string().max(8).optional(),
});
export type FrameAuth = z.infer<typeof FrameAuthSchema>;

/** One answer for every refusal: it must not tell an installed portal's member_id from an unknown one. */
const REFUSED = "The portal did not accept this frame's auth: reopen the app from Bitrix24";

interface B24User { ID: string; NAME?: string; LAST_NAME?: string }

/**
 * `record`: the CRM record the portal opened this frame for (a tab or widget), bound into the session.
 * `client`: the request's address (`clientAddress(req)`): verifications are rate-limited per portal and client.
 */
export async function verifyFrameAuth(input: FrameAuth, record: PortalSession["record"] = null, client = "unknown") {
  return limitFrameVerify(input.member_id, client, () => verifyOnce(input, record));
}

async function verifyOnce(input: FrameAuth, record: PortalSession["record"]): Promise<PortalSession> {
  const portal = await getDb().portal.findUnique({ where: { memberId: input.member_id }, omit: { applicationTokenHash: false } });
  // A portal waiting for re-authorization still signs its users in: an admin's visit is what re-arms it.
  if (!portal || !SIGN_IN_STATUSES.has(portal.status)) throw new AppError(401, "unauthorized", REFUSED);
  if (input.APPLICATION_TOKEN && (!portal.applicationTokenHash || !safeEqual(portal.applicationTokenHash, sha256Hex(input.APPLICATION_TOKEN)))) {
    await recordAuthFailure(portal.id, "frame_application_token_mismatch", "frame");
    throw new AppError(401, "unauthorized", REFUSED);
  }
  let user: B24User;
  let isAdmin: boolean;
  try {
    // The user's token draws from the portal's one budget too.
    const res = await callLimited<{ result: { me: B24User; admin: boolean } }>(portal.id, portal.clientEndpoint, input.AUTH_ID, "batch",
      { halt: 1, cmd: { me: "user.current", admin: "user.admin" } });
    user = res.result.result.me;
    isAdmin = res.result.result.admin === true;
    if (!user?.ID) throw new AppError(401, "unauthorized", REFUSED);
  } catch (e) {
    if (isBitrixError(e, "limit")) throw new AppError(503, "portal_busy", "Bitrix24 asks us to slow down: try again in a moment");
    if (isBitrixError(e)) throw new AppError(401, "unauthorized", REFUSED);
    throw e;
  }
  return {
    portalId: portal.id, memberId: portal.memberId, portalOrigin: new URL(portal.clientEndpoint).origin,
    userId: Number(user.ID), userName: [user.NAME, user.LAST_NAME].filter(Boolean).join(" ") || `#${user.ID}`, isAdmin,
    lang: input.LANG === "ru" ? "ru" : "en",
    userToken: input.AUTH_ID, record, installedAt: portal.installedAt.getTime(),
  };
}
