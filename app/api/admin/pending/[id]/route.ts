import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { revertRunner } from "@/lib/history/revert";
import { rerunPendingCall } from "@/lib/lifecycle/confirm";

// POST /api/admin/pending/<id> — re-run a call that waited for (or was refused) an admin's confirmation.
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const s = await requirePortalAdmin(req);
    const { id } = await ctx.params;
    const call = await rerunPendingCall(s.portalId, id, revertRunner);
    return Response.json({ id: call.id, status: call.status, error: call.error });
  } catch (error) {
    return toErrorResponse(error);
  }
}
