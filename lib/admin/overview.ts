import "server-only";
import { getDb } from "@/lib/db";
import { offlineHealth } from "@/lib/events/offline";
import { authFailuresPerMinute } from "@/lib/metrics/auth-failures";
import { listAppAlerts } from "@/lib/portals/alerts";
import { capabilityMatrix } from "@/lib/lifecycle/probe";

// Everything the admin page shows, read from the database (every query scoped by the session's portal).
const MINUTES = 60;

function perMinute(rows: { minute: Date; value: number }[]): number[] {
  const start = Math.floor(Date.now() / 60_000) - MINUTES + 1;
  const out = Array<number>(MINUTES).fill(0);
  for (const r of rows) {
    const i = Math.floor(r.minute.getTime() / 60_000) - start;
    if (i >= 0 && i < MINUTES) out[i] = (out[i] ?? 0) + r.value;
  }
  return out;
}

export async function loadAdminOverview(portalId: string) {
  const db = getDb();
  const since = new Date(Date.now() - MINUTES * 60_000);
  const [portal, profile, bindings, pending, failures, samples, audit, backfill, offline, bucket, inboxLag] =
    await Promise.all([
      db.portal.findUniqueOrThrow({ where: { id: portalId } }),
      db.capabilityProfile.findUnique({ where: { portalId } }),
      db.bindingState.findMany({ where: { portalId }, orderBy: [{ kind: "asc" }, { code: "asc" }] }),
      db.pendingCall.findMany({ where: { portalId }, orderBy: { createdAt: "desc" }, take: 20 }),
      authFailuresPerMinute(portalId, since),
      db.metricSample.findMany({ where: { portalId, minute: { gte: since } } }),
      db.auditLog.findMany({ where: { portalId }, orderBy: { createdAt: "desc" }, take: 15 }),
      db.backfillRun.findMany({ where: { portalId } }),
      offlineHealth(portalId),
      db.rateBucket.findUnique({ where: { portalId } }),
      db.eventInbox.findFirst({
        where: { portalId, status: "pending" },
        orderBy: { receivedAt: "asc" },
        select: { receivedAt: true },
      }),
    ]);
  const series = (name: string) => perMinute(samples.filter((s) => s.name === name));
  return {
    portal: {
      domain: portal.domain,
      status: portal.status,
      installStage: portal.installStage,
      appVersion: portal.appVersion,
      burst: portal.rateBurst,
      drain: portal.rateDrainPerSec,
      terminalReason: portal.terminalReason,
      tokensProblem: portal.tokensProblem,
    },
    alerts: await listAppAlerts(),
    ...capabilityMatrix(profile),
    probedAt: profile?.fetchedAt ?? null,
    bindings: bindings.map((b) => ({
      kind: b.kind,
      code: b.code,
      mode: b.mode,
      actual: b.actual,
      lastError: b.lastError,
      checkedAt: b.checkedAt,
    })),
    pending: pending.map((p) => ({
      id: p.id,
      method: p.method,
      status: p.status,
      purpose: p.purpose,
      createdAt: p.createdAt,
      error: p.error,
    })),
    authFailures: perMinute(failures),
    restCalls: series("rest.calls"),
    limitHits: series("rest.limit_hits"),
    eventsProcessed: series("events.processed"),
    audit: audit.map((a) => ({ action: a.action, createdAt: a.createdAt })),
    backfill: backfill.map((b) => ({
      entityType: b.entityType,
      status: b.status,
      processed: b.processed,
      total: b.total,
    })),
    offline: { ...offline, inboxOldestPendingAt: inboxLag?.receivedAt ?? null },
    bucketLevel: bucket?.level ?? 0,
  };
}
export type AdminOverview = Awaited<ReturnType<typeof loadAdminOverview>>;
