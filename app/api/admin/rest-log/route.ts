import { RestLogQuerySchema, searchRestLog } from "@/lib/admin/rest-log";
import { requirePortalAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http/route";

// GET /api/admin/rest-log?method=&status=&before=<cursor> — the REST calls the app made to the session's portal,
// newest first, redacted (lib/bitrix/rest-log.ts). Any portalId or member_id in the query is ignored.
export const GET = route({ auth: requirePortalAdmin, query: RestLogQuerySchema }, async ({ session: s, query }) =>
  Response.json(await searchRestLog(s.portalId, query), { headers: { "cache-control": "no-store" } }),
);
