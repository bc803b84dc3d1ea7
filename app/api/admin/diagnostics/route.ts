import { requirePortalAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http/route";
import { runDiagnostics } from "@/lib/lifecycle/diagnostics";

// POST /api/admin/diagnostics — the recovery playbook for the session's portal.
export const POST = route({ auth: requirePortalAdmin }, async ({ session: s }) =>
  Response.json({ steps: await runDiagnostics(s.portalId) }),
);
