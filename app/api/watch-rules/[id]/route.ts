import { requirePortalSession } from "@/lib/auth/session";
import { isStillAdmin } from "@/lib/auth/user-rights";
import { toErrorResponse } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";
import { deleteRule } from "@/lib/watch/rules";

// DELETE /api/watch-rules/<id> — the author deletes their rule; an admin (asked again of Bitrix24) any of the portal's.
// Another portal's or another user's rule is "not found".
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const s = await requirePortalSession(req);
    const { id } = await ctx.params;
    const admin = s.isAdmin && (await isStillAdmin(s, true));
    await deleteRule({ ...s, isAdmin: admin }, id);
    await audit(s.memberId, s.portalId, "watch_rule.deleted", { userId: s.userId, ruleId: id });
    return Response.json({ status: "deleted" });
  } catch (error) {
    return toErrorResponse(error);
  }
}
