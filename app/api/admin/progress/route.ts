import { loadProgress } from "@/lib/admin/progress";
import { requirePortalAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http/route";

// GET /api/admin/progress — backfill and queue progress for the admin page's live bars (the session's portal).
export const GET = route({ auth: requirePortalAdmin }, async ({ session: s }) =>
  Response.json(await loadProgress(s.portalId), { headers: { "cache-control": "no-store" } }),
);
