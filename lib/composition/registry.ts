import "server-only";
// The worker's composition root: job kind → handler across every domain. Only processes (lib/composition/main.ts,
// instrumentation-node.ts), scripts and tests import lib/composition/; a lib/ module never does (eslint.config.mjs).
import { getDb } from "@/lib/db";
import { drainOffline } from "@/lib/events/offline";
import { probePortal } from "@/lib/lifecycle/probe-portal";
import { refreshTokens } from "@/lib/bitrix/refresh";
import { pruneRestLog } from "@/lib/bitrix/rest-log";
import { loadTokens } from "@/lib/portals/tokens";
import type { JobRow } from "@/lib/jobs/queue";
import { AUDIT_EXPORT_JOB, runAuditExport } from "@/lib/history/audit-export";
import { runBackfill } from "@/lib/history/backfill";
import { runReconcile } from "@/lib/history/reconcile";
import { runRetention } from "@/lib/history/retention";
import { runStageHistory, STAGE_HISTORY_JOB, type StageHistoryPayload } from "@/lib/history/stage-history";
import { handleUninstallClaim } from "@/lib/lifecycle/uninstall";
import { runWatchDelivery } from "@/lib/watch/deliver";

// Job kind → handler. Refresh tokens live 180 days: a portal idle for 30 days gets one keep-alive refresh.
const KEEPALIVE_AFTER_MS = 30 * 24 * 3600_000;

async function keepAlive(portalId: string) {
  const set = await getDb().tokenSet.findUnique({ where: { portalId }, include: { portal: true } });
  if (
    !set ||
    set.portal.status !== "active" ||
    (set.refreshedAt && Date.now() - set.refreshedAt.getTime() < KEEPALIVE_AFTER_MS)
  )
    return "fresh";
  const tokens = await loadTokens(portalId);
  await refreshTokens(portalId, tokens!.version, set.portal.serverEndpoint);
  return "refreshed";
}

/** A handler of long work (a backfill slice) stops at its next step once `signal` aborts: the worker is stopping. */
export const JOB_HANDLERS: Record<string, (job: JobRow, signal?: AbortSignal) => Promise<unknown>> = {
  "offline.drain": (job) => drainOffline(job.portalId!),
  "portal.probe": (job) => probePortal(job.portalId!),
  "tokens.keepalive": (job) => keepAlive(job.portalId!),
  "history.backfill": (job, signal) => runBackfill(job.portalId!, undefined, signal, { yieldToCapture: true }),
  "history.reconcile": (job) => runReconcile(job.portalId!, { yieldToCapture: true }),
  [STAGE_HISTORY_JOB]: (job) => runStageHistory(job.portalId!, job.payload as unknown as StageHistoryPayload),
  "history.retention": (job, signal) => runRetention(job.portalId!, { signal }),
  [AUDIT_EXPORT_JOB]: (job, signal) => runAuditExport((job.payload as { exportId: string }).exportId, signal),
  "watch.deliver": (job) => runWatchDelivery(job.portalId!, job.payload as { deliveries?: [] }),
  "restlog.prune": () => pruneRestLog(),
  "lifecycle.uninstall": async (job) => {
    const portal = await getDb().portal.findUnique({ where: { id: job.portalId! } });
    if (!portal || portal.status === "uninstalled") return "gone";
    const { clean, attempt } = (job.payload ?? {}) as { clean?: boolean; attempt?: number };
    return handleUninstallClaim(portal.id, portal.memberId, clean === true, attempt ?? 1);
  },
};
