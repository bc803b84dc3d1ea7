import { requirePortalAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http/route";
import { rebindPortal } from "@/lib/lifecycle/diagnostics";

// POST /api/admin/rebind — admins only; always the session's own portal.
export const POST = route({ auth: requirePortalAdmin }, async ({ session: s }) =>
  Response.json(await rebindPortal(s.portalId)),
);
