import "server-only";
import { getDb } from "@/lib/db";
import { audit } from "@/lib/lifecycle/audit";

// Uninstall (seed: Uninstall Stage Contract): the caller has verified application_token (the only proof of origin);
// no REST call is made (rights are already revoked); CLEAN=1 purges everything but the audit record, CLEAN=0 keeps
// the data; running it twice changes nothing more.
export async function handleUninstall(portalId: string, memberId: string, clean: boolean): Promise<{ purged: boolean }> {
  const db = getDb();
  if (clean) {
    await audit(memberId, null, "uninstall", { clean: true });
    await db.portal.deleteMany({ where: { id: portalId } }); // cascades to every portal-scoped table
    return { purged: true };
  }
  await db.$transaction([
    db.portal.update({ where: { id: portalId }, data: { status: "uninstalled", uninstalledAt: new Date(), installStage: "uninstalled" } }),
    db.tokenSet.deleteMany({ where: { portalId } }), // revoked by Bitrix24 anyway; never try them again
    db.bindingState.updateMany({ where: { portalId }, data: { actual: false } }),
    db.job.deleteMany({ where: { portalId, status: "pending" } }),
  ]);
  await audit(memberId, portalId, "uninstall", { clean: false });
  return { purged: false };
}
