import "server-only";
import { callWithToken, exchangeRefreshToken, isBitrixError } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { enqueueUnlessWaiting } from "@/lib/jobs/queue";
import { audit } from "@/lib/lifecycle/audit";
import { log } from "@/lib/log";
import { saveTokens } from "@/lib/portals/tokens";
import { errorMessage } from "@/lib/error-message";

// Re-arming a portal without a reinstall (issue #18 item 5, #13 item 11). Two states need an admin's fresh tokens:
// - `needs_reauth`: the OAuth server refused our refresh token (invalid_grant — an answer lost after the server
//   rotated the token, or 180 days unused);
// - `tokensProblem = token_owner_not_admin`: our tokens belong to an admin who lost admin rights, so event.offline.*,
//   event.bind and placement.* answer ACCESS_DENIED.
// Every frame POST carries the opening user's REFRESH_ID. When an ADMIN opens the app (any page), that refresh token
// is exchanged at the portal's stored OAuth server — its answer, not the form, names the portal — checked to be an
// admin's, and stored as the app's tokens; the portal resumes, and the work that waited (paused inbox rows, the
// offline queue) is picked up by the workers.

export type RearmOutcome = "not_needed" | "rearmed" | "refused";

export async function rearmFromAdminFrame(portalId: string, refreshId: string | undefined): Promise<RearmOutcome> {
  const db = getDb();
  const portal = await db.portal.findUnique({ where: { id: portalId } });
  if (!portal || (portal.status !== "needs_reauth" && !portal.tokensProblem)) return "not_needed";
  if (!refreshId) return "refused";
  try {
    const tokens = await exchangeRefreshToken(portal.serverEndpoint, refreshId);
    if (tokens.memberId !== portal.memberId) throw new Error("the OAuth server's answer names another portal");
    const admin =
      (await callWithToken<boolean>(portal.clientEndpoint, tokens.accessToken, "user.admin")).result === true;
    if (!admin) throw new Error("the exchanged token is not an administrator's");
    await saveTokens(portal.id, tokens);
    await db.portal.update({
      where: { id: portal.id },
      data: { status: "active", terminalReason: null, tokensProblem: null },
    });
    await audit(portal.memberId, portal.id, "portal.rearmed", {
      was: portal.status === "needs_reauth" ? portal.terminalReason : portal.tokensProblem,
      byUser: tokens.userId,
    });
    await enqueueUnlessWaiting("offline.drain", portal.id);
    log.info({ portalId }, "portal re-armed by an administrator's frame");
    return "rearmed";
  } catch (e) {
    log.warn({ portalId, err: isBitrixError(e) ? e.code : errorMessage(e) }, "re-arming the portal failed");
    await audit(portal.memberId, portal.id, "portal.rearm_failed", { reason: isBitrixError(e) ? e.code : "refused" });
    return "refused";
  }
}
