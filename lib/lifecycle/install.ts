import "server-only";
import { bitrixFor, callWithToken, exchangeRefreshToken, isBitrixError, type OAuthTokens } from "@/lib/bitrix";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { runOnce } from "@/lib/jobs/queue";
import { audit } from "@/lib/lifecycle/audit";
import { runLifecycle, type LifecycleKind, type LifecycleOutcome } from "@/lib/lifecycle/run";
import { saveTokens } from "@/lib/portals/tokens";
import { sleep } from "@/lib/sleep";

// Install, reinstall, update and resume (seed: Install Stage Contract, Reinstall Behavior). The portal's identity
// comes from the OAuth server's answer to OUR exchange of the received refresh token — never from the POST body
// alone — and every later REST call goes to the client_endpoint of that answer.

export interface InstallClaim {
  memberId: string;
  refreshToken: string;
  serverEndpoint: string | null;
  /** null from Bitrix24's core installer form, which carries none: ONAPPINSTALL brings it (docs/lifecycle.md) */
  applicationToken: string | null;
  source: "installer" | "event" | "update";
}

export async function confirmIdentity(claim: InstallClaim): Promise<OAuthTokens> {
  let tokens: OAuthTokens;
  try {
    tokens = await exchangeRefreshToken(claim.serverEndpoint, claim.refreshToken);
  } catch (e) {
    if (isBitrixError(e) && e.code === "OAUTH_SERVER_NOT_ALLOWED")
      throw new AppError(400, "oauth_server_not_allowed", "server_endpoint is not an allowed Bitrix24 OAuth server");
    if (isBitrixError(e) && e.code.toUpperCase() === "PAYMENT_REQUIRED")
      throw new AppError(402, "payment_required", "The portal's subscription for this app has ended");
    throw new AppError(401, "install_rejected", "The Bitrix24 OAuth server did not confirm this installation");
  }
  if (tokens.memberId !== claim.memberId)
    throw new AppError(401, "install_rejected", "member_id does not match the OAuth server's answer");
  if (!(await isPortalAdmin(tokens)))
    throw new AppError(403, "install_rejected", "Only a portal administrator can install or update the app");
  return tokens;
}

/**
 * Only administrators install or update apps, and the app needs admin rights (offline events, placement.bind,
 * docs/bitrix24.md#event-bind). Every user's frame POST carries a REFRESH_ID (docs/bitrix24.md#install): without this
 * check any user could "reinstall" the app with their own tokens and an application_token of their choosing, then
 * uninstall it (CLEAN=1).
 */
async function isPortalAdmin(tokens: OAuthTokens, attempt = 1): Promise<boolean> {
  try {
    return (await callWithToken<boolean>(tokens.clientEndpoint, tokens.accessToken, "user.admin")).result === true;
  } catch (e) {
    // A busy portal (our worker may be using its budget during an update) answers QUERY_LIMIT_EXCEEDED: wait, retry.
    if (isBitrixError(e, "limit") && attempt < 4)
      return sleep(attempt * 1000).then(() => isPortalAdmin(tokens, attempt + 1));
    if (isBitrixError(e))
      throw new AppError(401, "install_rejected", "The portal did not confirm the installing user's rights");
    throw e;
  }
}

async function upsertPortal(tokens: OAuthTokens, claim: InstallClaim): Promise<{ id: string; kind: LifecycleKind }> {
  const db = getDb();
  const existing = await db.portal.findUnique({ where: { memberId: tokens.memberId } });
  const kind: LifecycleKind = !existing
    ? "install"
    : existing.status === "uninstalled"
      ? "reinstall"
      : claim.source === "update"
        ? "update"
        : existing.installStage !== "finished"
          ? "resume"
          : "install";
  // A form without APPLICATION_TOKEN keeps the stored hash, except the one of a removed installation.
  const hash = claim.applicationToken
    ? sha256Hex(claim.applicationToken)
    : !existing || kind === "reinstall"
      ? null
      : undefined;
  const identity = {
    domain: new URL(tokens.clientEndpoint).host,
    clientEndpoint: tokens.clientEndpoint,
    serverEndpoint: tokens.serverEndpoint,
    ...(hash === undefined ? {} : { applicationTokenHash: hash }),
  };
  const portal = await db.portal.upsert({
    where: { memberId: tokens.memberId },
    create: { memberId: tokens.memberId, ...identity, licenseStatus: tokens.status },
    // Reinstall over residue: a CLEAN=0 uninstall left data; the state that would be stale is reset here.
    update: {
      ...identity,
      status: "active",
      terminalReason: null,
      uninstalledAt: null,
      licenseStatus: tokens.status,
      ...(kind === "reinstall" ? { installStage: "started", installedAt: new Date() } : {}),
    },
  });
  if (kind === "reinstall")
    await db.$transaction([
      db.capabilityProfile.deleteMany({ where: { portalId: portal.id } }),
      db.bindingState.deleteMany({ where: { portalId: portal.id } }),
      db.pendingCall.updateMany({ where: { portalId: portal.id, status: "pending" }, data: { status: "expired" } }),
      db.rateBucket.deleteMany({ where: { portalId: portal.id } }),
    ]);
  await saveTokens(portal.id, tokens);
  await audit(tokens.memberId, portal.id, `${kind}.started`, { source: claim.source });
  return { id: portal.id, kind };
}

/**
 * ONAPPINSTALL for a portal the core installer form installed (or is installing) without an application_token:
 * the install work is that form's; what the event adds is the token (and fresh tokens). Null when it is a real
 * install (new portal, reinstall, or a token already known), which then runs the whole lifecycle.
 */
async function acceptInstallToken(tokens: OAuthTokens, claim: InstallClaim): Promise<LifecycleOutcome | null> {
  if (claim.source !== "event" || !claim.applicationToken) return null;
  const db = getDb();
  const p = await db.portal.findUnique({ where: { memberId: tokens.memberId }, omit: { applicationTokenHash: false } });
  if (!p || p.status !== "active" || p.applicationTokenHash) return null;
  await db.portal.update({ where: { id: p.id }, data: { applicationTokenHash: sha256Hex(claim.applicationToken) } });
  await saveTokens(p.id, tokens);
  await audit(tokens.memberId, p.id, "install.token_received", { source: claim.source, stage: p.installStage });
  return { portalId: p.id, kind: "install", ok: p.installStage === "finished", problems: [] };
}

/** Runs once per received refresh token across all instances (deduplicated in the database). */
export async function installFromClaim(claim: InstallClaim): Promise<LifecycleOutcome> {
  return runOnce(`lifecycle:${sha256Hex(claim.refreshToken)}`, null, async () => {
    const tokens = await confirmIdentity(claim);
    const tokenOnly = await acceptInstallToken(tokens, claim);
    if (tokenOnly) return tokenOnly;
    const { id, kind } = await upsertPortal(tokens, claim);
    return runLifecycle(id, kind);
  });
}

/**
 * ONAPPUPDATE without user tokens in `auth` (no user behind the update): the caller verified its application_token;
 * it runs with the stored tokens. Never refused for the missing refresh_token — Bitrix24 does not resend it, and
 * the update removed our event handlers (b24restdocs event-bind.md), which only this run binds again. A frame may
 * show the application_token to any user, so the portal confirms the version (app.info) and each version runs once:
 * a forged or repeated event can only repeat what already ran.
 */
export async function updateWithStoredTokens(
  portalId: string,
  memberId: string,
  version: string,
): Promise<LifecycleOutcome> {
  const info = await (await bitrixFor(portalId)).call<{ VERSION?: unknown }>("app.info");
  if (!version || String(info.result.VERSION ?? "") !== version) {
    throw new AppError(401, "update_unconfirmed", "The portal does not report this app version as installed");
  }
  return runOnce(`lifecycle:update:${portalId}:${version}`, portalId, async () => {
    await audit(memberId, portalId, "update.started", { source: "update", tokens: "stored", version });
    return runLifecycle(portalId, "update");
  });
}
