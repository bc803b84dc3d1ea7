import { revokeApiToken } from "@/lib/api/tokens";
import { requirePortalAdmin } from "@/lib/auth/session";
import { IdParams, route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";

// DELETE /api/admin/api-tokens/<id> — revokes one of the portal's API tokens at once. Admins only.
export const DELETE = route({ auth: requirePortalAdmin, params: IdParams }, async ({ session: s, params: { id } }) => {
  await revokeApiToken(s.portalId, id);
  await audit(s.memberId, s.portalId, "api_token.revoked", { userId: s.userId, tokenId: id });
  return Response.json({ status: "revoked" });
});
