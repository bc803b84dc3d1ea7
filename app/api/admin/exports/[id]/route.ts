import { requirePortalAdmin } from "@/lib/auth/session";
import { exportView, getAuditExport } from "@/lib/history/audit-export";
import { toErrorResponse } from "@/lib/http-errors";

// GET /api/admin/exports/<id> — an export's progress: status, rows written of the estimate, and the Drive link of each
// file once uploaded. The session's portal's exports only (another portal's id is a 404). Admins only.
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const s = await requirePortalAdmin(req);
    const { id } = await ctx.params;
    return Response.json(exportView(await getAuditExport(s.portalId, id)), {
      headers: { "cache-control": "no-store" },
    });
  } catch (error) {
    return toErrorResponse(error);
  }
}
