import { requirePortalAdmin } from "@/lib/auth/session";
import { revertRunner } from "@/lib/history/revert";
import { IdParams, route } from "@/lib/http/route";
import { rerunPendingCall } from "@/lib/bitrix/confirm";

// POST /api/admin/pending/<id> — re-run a call that waited for (or was refused) an admin's confirmation.
export const POST = route({ auth: requirePortalAdmin, params: IdParams }, async ({ session: s, params: { id } }) => {
  const call = await rerunPendingCall(s.portalId, id, revertRunner);
  return Response.json({ id: call.id, status: call.status, error: call.error });
});
