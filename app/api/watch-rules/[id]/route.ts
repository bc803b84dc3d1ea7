import { isAdminNow, requirePortalSession } from "@/lib/auth/session";
import { IdParams, route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";
import { deleteRule } from "@/lib/watch/rules";

// DELETE /api/watch-rules/<id> — the author deletes their rule; an admin (asked again of Bitrix24) any of the portal's.
// Another portal's or another user's rule is "not found".
export const DELETE = route(
  { auth: requirePortalSession, params: IdParams },
  async ({ session: s, params: { id } }) => {
    await deleteRule({ ...s, isAdmin: await isAdminNow(s, true) }, id);
    await audit(s.memberId, s.portalId, "watch_rule.deleted", { userId: s.userId, ruleId: id });
    return Response.json({ status: "deleted" });
  },
);
