import "server-only";
import type { PortalStatus } from "@prisma/client";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

/**
 * The portal statuses under which its users are signed in and their sessions hold: a portal waiting for
 * re-authorization still serves them — an admin's visit is what re-arms it (lib/lifecycle/rearm.ts).
 */
export const SIGN_IN_STATUSES: ReadonlySet<string> = new Set(["active", "needs_reauth"]);

/**
 * Stops all work for a portal after a terminal answer (PAYMENT_REQUIRED, revoked/disabled app, invalid_grant) so
 * there is no retry storm; `reactivatePortal` resumes it (a new install, a successful app.info probe).
 */
export async function markPortalTerminal(portalId: string, status: Exclude<PortalStatus, "active">, reason: string) {
  const portal = await getDb().portal.update({ where: { id: portalId }, data: { status, terminalReason: reason } });
  await getDb().auditLog.create({
    data: { memberId: portal.memberId, portalId, action: `portal.${status}`, detail: { reason } },
  });
  log.warn({ portalId, status, reason }, "portal marked terminal");
}

export async function reactivatePortal(portalId: string, reason: string) {
  const portal = await getDb().portal.update({
    where: { id: portalId },
    data: { status: "active", terminalReason: null },
  });
  await getDb().auditLog.create({
    data: { memberId: portal.memberId, portalId, action: "portal.reactivated", detail: { reason } },
  });
}

/** The app's tokens work but cannot do everything the app needs (see Portal.tokensProblem); flagged once. */
export async function flagTokensProblem(portalId: string, problem: string) {
  const n = await getDb().portal.updateMany({
    where: { id: portalId, tokensProblem: null },
    data: { tokensProblem: problem },
  });
  if (!n.count) return;
  const portal = await getDb().portal.findUniqueOrThrow({ where: { id: portalId } });
  await getDb().auditLog.create({
    data: { memberId: portal.memberId, portalId, action: "portal.tokens_problem", detail: { problem } },
  });
  log.warn({ portalId, problem }, "the app's tokens lack rights: waiting for an admin to open the app");
}
