import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { rebindPortal } from "@/lib/lifecycle/diagnostics";

// POST /api/admin/rebind — admins only; always the session's own portal.
export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    return Response.json(await rebindPortal(s.portalId));
  } catch (error) {
    return toErrorResponse(error);
  }
}
