import "server-only";
import { bitrixFor, callWithToken, isBitrixError } from "@/lib/bitrix";
import { refreshTokens } from "@/lib/bitrix/refresh";
import { getDb } from "@/lib/db";
import { audit } from "@/lib/lifecycle/audit";
import { markPortalTerminal, reactivatePortal } from "@/lib/portals/portals";
import { loadTokens } from "@/lib/portals/tokens";

// Missed signals (Bitrix24 never retries an event): each portal is asked app.info periodically, so an uninstall or a
// lapsed payment whose event never arrived is noticed, and a portal that paid again resumes.
interface AppInfo {
  INSTALLED?: boolean;
  PAYMENT_EXPIRED?: string;
  STATUS?: string;
  LICENSE_FAMILY?: string;
}

async function applyInfo(portalId: string, info: AppInfo) {
  const enterprise = info.LICENSE_FAMILY === "ent";
  await getDb().portal.update({
    where: { id: portalId },
    data: {
      lastProbeAt: new Date(),
      licenseStatus: info.STATUS ?? null,
      licenseFamily: info.LICENSE_FAMILY ?? null,
      ...(enterprise ? { rateBurst: 250, rateDrainPerSec: 5 } : {}),
    },
  });
}

export async function probePortal(portalId: string): Promise<string> {
  const portal = await getDb().portal.findUnique({ where: { id: portalId } });
  if (!portal || portal.status === "uninstalled") return "skipped";
  try {
    if (portal.status !== "active") {
      const stored = await loadTokens(portalId);
      if (!stored) return "no-tokens";
      const fresh = await refreshTokens(portalId, stored.version, portal.serverEndpoint);
      const info = (await callWithToken<AppInfo>(portal.clientEndpoint, fresh.accessToken, "app.info")).result;
      if (info.PAYMENT_EXPIRED === "Y") return "still-terminal";
      await reactivatePortal(portalId, "app.info answered again");
      await applyInfo(portalId, info);
      return "reactivated";
    }
    const info = (await (await bitrixFor(portalId)).call<AppInfo>("app.info", {}, { lane: "background" })).result;
    await applyInfo(portalId, info);
    if (info.PAYMENT_EXPIRED === "Y") {
      await markPortalTerminal(portalId, "payment_required", "app.info PAYMENT_EXPIRED=Y");
      return "payment_required";
    }
    if (info.INSTALLED === false && portal.installStage === "finished")
      await audit(portal.memberId, portalId, "probe.not_installed", {});
    return "ok";
  } catch (e) {
    if (isBitrixError(e) && e.kind === "terminal") {
      await audit(portal.memberId, portalId, "probe.access_lost", {
        code: e.code,
        note: "uninstalled or disabled without an event reaching us",
      });
      return "terminal";
    }
    throw e;
  }
}
