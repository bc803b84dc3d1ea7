import { RestLogQuerySchema, searchRestLog } from "@/lib/admin/rest-log";
import { requirePortalAdmin } from "@/lib/auth/session";
import { toErrorResponse } from "@/lib/http-errors";

// GET /api/admin/rest-log?method=&status=&before=<cursor> — the REST calls the app made to the session's portal,
// newest first, redacted (lib/bitrix/rest-log.ts). Any portalId or member_id in the query is ignored.
export async function GET(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    const q = RestLogQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
    return Response.json(await searchRestLog(s.portalId, q), { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
