import "server-only";
import { getDb } from "@/lib/db";
import { audit } from "@/lib/lifecycle/audit";
import { LEGACY_ENTITIES } from "@/lib/history/entity-types";

// Per-portal data migrations applied on install/update, each exactly once (recorded in the audit log), in order.
// Seed: "apply schema/config migrations idempotently".
interface PortalMigration {
  id: string;
  run(portalId: string): Promise<void>;
}

export const PORTAL_MIGRATIONS: PortalMigration[] = [
  {
    id: "2026-11-backfill-cursors",
    // Every portal starts with a backfill cursor per CRM entity so the history has a baseline to diff against.
    async run(portalId) {
      for (const entityType of LEGACY_ENTITIES) {
        await getDb().backfillRun.upsert({
          where: { portalId_entityType: { portalId, entityType } },
          create: { portalId, entityType },
          update: {},
        });
      }
    },
  },
];

export async function applyPortalMigrations(portalId: string, memberId: string): Promise<string[]> {
  const done = new Set(
    (
      await getDb().auditLog.findMany({ where: { portalId, action: "migration.applied" }, select: { detail: true } })
    ).map((r) => (r.detail as { id?: string }).id),
  );
  const applied: string[] = [];
  for (const m of PORTAL_MIGRATIONS) {
    if (done.has(m.id)) continue;
    await m.run(portalId);
    await audit(memberId, portalId, "migration.applied", { id: m.id });
    applied.push(m.id);
  }
  return applied;
}
