import { requirePortalAdmin } from "@/lib/auth/session";
import { restartBackfill } from "@/lib/history/backfill";
import { route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/backfill — "Run backfill": a new pass over every record of the session's portal; changes that were
// missed (events lost while a binding was gone) are recorded with source "backfill".
export const POST = route({ auth: requirePortalAdmin }, async ({ session: s }) => {
  await restartBackfill(s.portalId, "admin");
  await audit(s.memberId, s.portalId, "backfill.requested", { userId: s.userId });
  return Response.json({ status: "queued" });
});
