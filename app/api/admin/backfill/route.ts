import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { restartBackfill } from "@/lib/history/backfill";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/backfill — "Run backfill": a new pass over every record of the session's portal; changes that were
// missed (events lost while a binding was gone) are recorded with source "backfill".
export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    await restartBackfill(s.portalId, "admin");
    await audit(s.memberId, s.portalId, "backfill.requested", { userId: s.userId });
    return Response.json({ status: "queued" });
  } catch (error) {
    return toErrorResponse(error);
  }
}
