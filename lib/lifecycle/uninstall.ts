import "server-only";
import { isBitrixError } from "@/lib/bitrix";
import { refreshTokens } from "@/lib/bitrix/refresh";
import { getDb } from "@/lib/db";
import { enqueueJob } from "@/lib/jobs/queue";
import { audit } from "@/lib/lifecycle/audit";
import { log } from "@/lib/log";
import { loadTokens } from "@/lib/portals/tokens";
import { errorMessage } from "@/lib/error-message";

// Uninstall (seed: Uninstall Stage Contract). ONAPPUNINSTALL carries no OAuth tokens, and its application_token is no
// proof that the portal sent it: every user's frame POST may carry APPLICATION_TOKEN (newer docs show it there), so any
// employee could forge an uninstall — and with CLEAN=1 erase the portal's history. An uninstall is therefore acted on
// only once the OAuth server confirms it, without trusting the body: Bitrix24 revokes the app's tokens on uninstall,
// so the server refuses our stored refresh token. No REST call goes to the portal (its rights are already revoked).
// - refused (invalid_grant and its kin) → confirmed: CLEAN=1 purges everything but the audit record, CLEAN=0 keeps
//   the data; running it twice changes nothing more;
// - accepted → the app is still installed: the forged uninstall is logged, audited and has no effect (the rotated
//   tokens are kept, as after any refresh);
// - no answer (network, OAuth server down) → asked again later by a job (lifecycle.uninstall), never acted on blindly.

export type UninstallOutcome = "uninstalled" | "refuted" | "unconfirmed";

/** Codes by which the OAuth server refuses a revoked app's refresh token (docs/lifecycle.md, "Uninstall"). */
const REVOKED = new Set(["INVALID_GRANT", "APPLICATION_NOT_FOUND", "APP_DISABLED", "PORTAL_DELETED", "NO_TOKENS"]);
/**
 * `invalid_client` means "bad client id/secret OR app not installed" (the OAuth server's docs): it confirms an
 * uninstall only while our credentials are proven good — another portal's refresh succeeded in the last day.
 */
const AMBIGUOUS = new Set(["INVALID_CLIENT", "WRONG_CLIENT"]);

async function credentialsProvenRecently(portalId: string): Promise<boolean> {
  const since = new Date(Date.now() - 24 * 3600_000);
  return (
    (await getDb().tokenSet.count({
      where: { portalId: { not: portalId }, refreshedAt: { gte: since }, lastRefreshError: null },
    })) > 0
  );
}

async function confirmByOAuth(portalId: string): Promise<"confirmed" | "refuted" | "unknown"> {
  const portal = await getDb().portal.findUnique({ where: { id: portalId }, select: { serverEndpoint: true } });
  const tokens = await loadTokens(portalId);
  if (!portal || !tokens) return "unknown";
  try {
    await refreshTokens(portalId, tokens.version, portal.serverEndpoint);
    return "refuted";
  } catch (e) {
    if (isBitrixError(e) && REVOKED.has(e.code.toUpperCase())) return "confirmed";
    if (isBitrixError(e) && AMBIGUOUS.has(e.code.toUpperCase()) && (await credentialsProvenRecently(portalId)))
      return "confirmed";
    log.warn({ portalId, err: errorMessage(e) }, "uninstall: the OAuth server gave no answer");
    return "unknown";
  }
}

export async function handleUninstallClaim(
  portalId: string,
  memberId: string,
  clean: boolean,
  attempt = 0,
): Promise<UninstallOutcome> {
  const verdict = await confirmByOAuth(portalId);
  if (verdict === "confirmed") {
    await handleUninstall(portalId, memberId, clean);
    return "uninstalled";
  }
  if (verdict === "refuted") {
    log.warn(
      { portalId, clean },
      "uninstall refused: the OAuth server still accepts the app's tokens (forged ONAPPUNINSTALL?)",
    );
    await audit(memberId, portalId, "uninstall.refuted", { clean });
    return "refuted";
  }
  await audit(memberId, portalId, "uninstall.unconfirmed", { clean, attempt });
  if (attempt < 8) {
    await enqueueJob("lifecycle.uninstall", {
      portalId,
      payload: { clean, attempt: attempt + 1 },
      runAt: new Date(Date.now() + 30_000 * 2 ** attempt),
    });
  }
  return "unconfirmed";
}

/** The uninstall itself, once confirmed. */
export async function handleUninstall(
  portalId: string,
  memberId: string,
  clean: boolean,
): Promise<{ purged: boolean }> {
  const db = getDb();
  if (clean) {
    await audit(memberId, null, "uninstall", { clean: true });
    await db.portal.deleteMany({ where: { id: portalId } }); // cascades to every portal-scoped table
    return { purged: true };
  }
  await db.$transaction([
    db.portal.update({
      where: { id: portalId },
      data: { status: "uninstalled", uninstalledAt: new Date(), installStage: "uninstalled" },
    }),
    db.tokenSet.deleteMany({ where: { portalId } }), // revoked by Bitrix24 anyway; never try them again
    db.bindingState.updateMany({ where: { portalId }, data: { actual: false } }),
    db.job.deleteMany({ where: { portalId, status: "pending" } }),
  ]);
  await audit(memberId, portalId, "uninstall", { clean: false });
  return { purged: false };
}
