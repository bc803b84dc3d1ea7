import { loadProgress } from "@/lib/admin/progress";
import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";

// GET /api/admin/progress — backfill and queue progress for the admin page's live bars (the session's portal).
export async function GET(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    return Response.json(await loadProgress(s.portalId), { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
