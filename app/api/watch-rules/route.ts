import { z } from "zod";
import { isAdminNow, requirePortalAdmin, requirePortalSession } from "@/lib/auth/session";
import { route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";
import { createRule, listRules, RuleInputSchema } from "@/lib/watch/rules";

// GET /api/watch-rules — the caller's rules (an admin: the portal's too; `?mine=1`: only the caller's own personal
// rules, as the CRM tab's "Notify me…" lists them); POST — a new rule (docs/watch-rules.md).
// Any user may watch for themselves; a portal rule needs an admin, asked again of Bitrix24 (user.admin).
const ListQuery = z.object({ mine: z.literal("1").optional() });

export const GET = route({ auth: requirePortalSession, query: ListQuery }, async ({ session: s, query }) =>
  Response.json({ rules: await listRules({ ...s, isAdmin: query.mine ? false : await isAdminNow(s, false) }) }),
);

export const POST = route(
  { auth: requirePortalSession, body: RuleInputSchema },
  async ({ req, session, body: input }) => {
    const s = input.scope === "portal" ? await requirePortalAdmin(req) : session;
    const rule = await createRule({ ...s, isAdmin: input.scope === "portal" }, input);
    await audit(s.memberId, s.portalId, "watch_rule.created", { userId: s.userId, ruleId: rule.id, scope: rule.scope });
    return Response.json(rule, { status: 201 });
  },
);
