import { isAdminNow, requirePortalAdmin, requirePortalSession } from "@/lib/auth/session";
import { route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";
import { createRule, listRules, RuleInputSchema } from "@/lib/watch/rules";

// GET /api/watch-rules — the caller's rules (an admin: the portal's too); POST — a new rule (docs/watch-rules.md).
// Any user may watch for themselves; a portal rule needs an admin, asked again of Bitrix24 (user.admin).
export const GET = route({ auth: requirePortalSession }, async ({ session: s }) =>
  Response.json({ rules: await listRules({ ...s, isAdmin: await isAdminNow(s, false) }) }));

export const POST = route({ auth: requirePortalSession, body: RuleInputSchema }, async ({ req, session, body: input }) => {
  const s = input.scope === "portal" ? await requirePortalAdmin(req) : session;
  const rule = await createRule({ ...s, isAdmin: input.scope === "portal" }, input);
  await audit(s.memberId, s.portalId, "watch_rule.created", { userId: s.userId, ruleId: rule.id, scope: rule.scope });
  return Response.json(rule, { status: 201 });
});
