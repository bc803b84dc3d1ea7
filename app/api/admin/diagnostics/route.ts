import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";
import { runDiagnostics } from "@/lib/lifecycle/diagnostics";

// POST /api/admin/diagnostics — the recovery playbook for the session's portal.
export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    return Response.json({ steps: await runDiagnostics(s.portalId) });
  } catch (error) {
    return toErrorResponse(error);
  }
}
