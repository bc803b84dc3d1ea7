import { requirePortalAdmin, requirePortalSession } from "@/lib/auth/session";
import { isStillAdmin } from "@/lib/auth/user-rights";
import { toErrorResponse } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";
import { createRule, listRules, RuleInputSchema } from "@/lib/watch/rules";

// GET /api/watch-rules — the caller's rules (an admin: the portal's too); POST — a new rule (docs/watch-rules.md).
// Any user may watch for themselves; a portal rule needs an admin, asked again of Bitrix24 (user.admin).
export async function GET(req: Request) {
  try {
    const s = await requirePortalSession(req);
    const admin = s.isAdmin && (await isStillAdmin(s, false));
    return Response.json({ rules: await listRules({ ...s, isAdmin: admin }) });
  } catch (error) {
    return toErrorResponse(error);
  }
}

export async function POST(req: Request) {
  try {
    let s = await requirePortalSession(req);
    const input = RuleInputSchema.parse(await req.json().catch(() => undefined));
    if (input.scope === "portal") s = await requirePortalAdmin(req);
    const rule = await createRule({ ...s, isAdmin: input.scope === "portal" }, input);
    await audit(s.memberId, s.portalId, "watch_rule.created", { userId: s.userId, ruleId: rule.id, scope: rule.scope });
    return Response.json(rule, { status: 201 });
  } catch (error) {
    return toErrorResponse(error);
  }
}
