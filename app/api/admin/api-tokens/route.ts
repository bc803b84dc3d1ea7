import { z } from "zod";
import { createApiToken, listApiTokens } from "@/lib/api/tokens";
import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";

// GET /api/admin/api-tokens — the portal's live API tokens (never the tokens themselves); POST {name} creates one and
// answers the plain token, this once. Admins only.
const Body = z.strictObject({ name: z.string().trim().min(1).max(80) });

export async function GET(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    return Response.json({ tokens: await listApiTokens(s.portalId) });
  } catch (error) {
    return toErrorResponse(error);
  }
}

export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    const { name } = Body.parse(await req.json().catch(() => undefined));
    const created = await createApiToken(s.portalId, name, s.userId);
    await audit(s.memberId, s.portalId, "api_token.created", { userId: s.userId, tokenId: created.id, name });
    return Response.json(created, { status: 201, headers: { "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
