import { revokeApiToken } from "@/lib/api/tokens";
import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";

// DELETE /api/admin/api-tokens/<id> — revokes one of the portal's API tokens at once. Admins only.
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const s = await requirePortalAdmin(req);
    const { id } = await ctx.params;
    await revokeApiToken(s.portalId, id);
    await audit(s.memberId, s.portalId, "api_token.revoked", { userId: s.userId, tokenId: id });
    return Response.json({ status: "revoked" });
  } catch (error) {
    return toErrorResponse(error);
  }
}
