import { z } from "zod";
import { createApiToken, listApiTokens } from "@/lib/api/tokens";
import { requirePortalAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";

// GET /api/admin/api-tokens — the portal's live API tokens (never the tokens themselves); POST {name} creates one and
// answers the plain token, this once. Admins only.
const Body = z.strictObject({ name: z.string().trim().min(1).max(80) });

export const GET = route({ auth: requirePortalAdmin }, async ({ session: s }) =>
  Response.json({ tokens: await listApiTokens(s.portalId) }),
);

export const POST = route({ auth: requirePortalAdmin, body: Body }, async ({ session: s, body: { name } }) => {
  const created = await createApiToken(s.portalId, name, s.userId);
  await audit(s.memberId, s.portalId, "api_token.created", { userId: s.userId, tokenId: created.id, name });
  return Response.json(created, { status: 201, headers: { "cache-control": "no-store" } });
});
