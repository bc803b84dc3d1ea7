import "server-only";
import { z } from "zod";
import { BitrixError, isBitrixError, type BatchCommands, type BatchResult } from "@/lib/bitrix";
import { batchVia } from "@/lib/bitrix/paging";
import { callLimited, recordReadCall, rememberRecordRead } from "@/lib/auth/user-rights";
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

interface B24User {
  ID: string;
  NAME?: string;
  LAST_NAME?: string;
}

/**
 * `record`: the CRM record the portal opened this frame for (a tab or widget), bound into the session.
 * `client`: the request's address (`clientAddress(req)`): verifications are rate-limited per portal and client.
 */
export async function verifyFrameAuth(input: FrameAuth, record: PortalSession["record"] = null, client = "unknown") {
  return limitFrameVerify(input.member_id, client, () => verifyOnce(input, record));
}

async function verifyOnce(input: FrameAuth, record: PortalSession["record"]): Promise<PortalSession> {
  const portal = await getDb().portal.findUnique({
    where: { memberId: input.member_id },
    omit: { applicationTokenHash: false },
  });
  // A portal waiting for re-authorization still signs its users in: an admin's visit is what re-arms it.
  if (!portal || !SIGN_IN_STATUSES.has(portal.status)) throw new AppError(401, "unauthorized", REFUSED);
  if (
    input.APPLICATION_TOKEN &&
    (!portal.applicationTokenHash || !safeEqual(portal.applicationTokenHash, sha256Hex(input.APPLICATION_TOKEN)))
  ) {
    await recordAuthFailure(portal.id, "frame_application_token_mismatch", "frame");
    throw new AppError(401, "unauthorized", REFUSED);
  }
  // One round trip (docs/performance.md, bench `ui`): who the token belongs to, whether they are an admin and — for a
  // tab or widget — whether they may read the record the frame was opened for, all with the user's own token in one
  // `batch` (halt 0: a refused read must not hide the other answers). The token draws from the portal's budget too.
  const cmds: BatchCommands = { me: ["user.current"], admin: ["user.admin"] };
  if (record) cmds.read = recordReadCall(record.entity, record.id);
  let answers: BatchResult;
  try {
    const asUser = {
      call: <T>(method: string, params?: Record<string, unknown>) =>
        callLimited<T>(portal.id, portal.clientEndpoint, input.AUTH_ID, method, params),
    };
    answers = await batchVia(asUser)(cmds);
    // halt 0 lets a command fail inside a successful batch: who the user is and whether they are an admin must be
    // answers, never a failed command read as "no" — an admin refused admin rights could not re-arm the portal
    for (const key of ["me", "admin"] as const) {
      const failed = answers.errors[key];
      if (failed) throw new BitrixError(failed.error, 0, failed.error_description, cmds[key]![0]);
    }
  } catch (e) {
    if (isBitrixError(e, "limit"))
      throw new AppError(503, "portal_busy", "Bitrix24 asks us to slow down: try again in a moment");
    if (isBitrixError(e)) throw new AppError(401, "unauthorized", REFUSED);
    throw e;
  }
  const user = answers.result.me as B24User | undefined;
  if (!user?.ID) throw new AppError(401, "unauthorized", REFUSED);
  const session: PortalSession = {
    portalId: portal.id,
    memberId: portal.memberId,
    portalOrigin: new URL(portal.clientEndpoint).origin,
    userId: Number(user.ID),
    userName: [user.NAME, user.LAST_NAME].filter(Boolean).join(" ") || `#${user.ID}`,
    isAdmin: answers.result.admin === true,
    lang: input.LANG === "ru" ? "ru" : "en",
    userToken: input.AUTH_ID,
    record,
    installedAt: portal.installedAt.getTime(),
  };
  if (record) {
    const e = answers.errors.read;
    rememberRecordRead(
      session,
      record.entity,
      record.id,
      e ? new BitrixError(e.error, 0, e.error_description, cmds.read![0]) : null,
    );
  }
  return session;
}
