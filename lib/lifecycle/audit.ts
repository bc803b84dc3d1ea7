import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

/** The install/update/uninstall audit trail (kept after a CLEAN=1 uninstall: it has no foreign key). */
export async function audit(
  memberId: string,
  portalId: string | null,
  action: string,
  detail: Record<string, unknown> = {},
) {
  await getDb().auditLog.create({ data: { memberId, portalId, action, detail: detail as object } });
  log.info({ memberId, portalId, action }, "lifecycle");
}
