import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { loadEnv } from "@/lib/env";
import { getDb } from "@/lib/db";
import { audit } from "@/lib/lifecycle/audit";
import { restartBackfill } from "@/lib/history/backfill";
import { reconcileBindings, type ReconcileReport } from "@/lib/lifecycle/bindings";
import { applyPortalMigrations } from "@/lib/lifecycle/migrations";
import { probeCapabilities, saveCapabilities, type Problem } from "@/lib/lifecycle/probe";

// The install/update sequence of docs/lifecycle.md, as resumable stages recorded in Portal.installStage:
// started → probed → bound → finished (or blocked when a required capability is missing).
export type LifecycleKind = "install" | "reinstall" | "update" | "resume";
export interface LifecycleOutcome {
  portalId: string;
  kind: LifecycleKind;
  ok: boolean;
  problems: Problem[];
  bindings?: ReconcileReport;
  migrations?: string[];
}

export async function runLifecycle(portalId: string, kind: LifecycleKind): Promise<LifecycleOutcome> {
  const db = getDb();
  const portal = await db.portal.findUniqueOrThrow({ where: { id: portalId } });
  const client = await bitrixFor(portalId);
  const caps = await probeCapabilities(client);
  await saveCapabilities(portalId, caps);
  const errors = caps.problems.filter((p) => p.level === "error");
  if (errors.length) {
    await db.portal.update({ where: { id: portalId }, data: { installStage: "blocked", lastProbeAt: new Date() } });
    await audit(portal.memberId, portalId, `${kind}.blocked`, { problems: errors });
    return { portalId, kind, ok: false, problems: caps.problems };
  }
  await db.portal.update({ where: { id: portalId }, data: { installStage: "probed", lastProbeAt: new Date() } });
  const bindings = await reconcileBindings(portalId, client, caps.features);
  await db.portal.update({ where: { id: portalId }, data: { installStage: "bound" } });
  const migrations = await applyPortalMigrations(portalId, portal.memberId);
  // The history needs a baseline of every record, and after an update or a reinstall the events of the gap are lost
  // (Bitrix24 drops bindings on update): a new pass records what changed meanwhile. Workers, resumable, background.
  await restartBackfill(portalId, kind);
  const version = loadEnv().BITRIX_APP_VERSION;
  await db.portal.update({ where: { id: portalId }, data: { installStage: "finished", appVersion: version } });
  await audit(portal.memberId, portalId, `${kind}.finished`, {
    version,
    bound: bindings.bound,
    missing: bindings.missingAfter,
    removed: bindings.removed,
    migrations,
  });
  return { portalId, kind, ok: bindings.missingAfter.length === 0, problems: caps.problems, bindings, migrations };
}
