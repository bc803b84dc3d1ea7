import { z } from "zod";
import { requirePortalAdmin } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { AuditQuerySchema } from "@/lib/history/audit";
import { createAuditExport, EXPORT_FORMATS, exportView } from "@/lib/history/audit-export";
import { TimeZoneSchema } from "@/lib/history/present";
import { AppError, toErrorResponse } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/exports {format: "csv"|"xlsx", filters?: the Audit page's query, timeZone?} — queues a portal-wide
// export of that search to the admin's own Bitrix24 Drive (lib/history/audit-export.ts) and answers its progress
// (201); GET /api/admin/exports/<id> follows it. Admins only; a bad filter is a 400 naming it ("filters.from").
const Body = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  filters: AuditQuerySchema.omit({ cursor: true }).strict().default({}),
  timeZone: TimeZoneSchema.optional(),
});
/** Exports a portal may have waiting or running at once: each one reads the whole search. */
const MAX_OPEN_EXPORTS = 3;

export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    const body = Body.parse(await req.json().catch(() => undefined));
    const open = await getDb().auditExport.count({
      where: { portalId: s.portalId, status: { in: ["queued", "running"] } },
    });
    if (open >= MAX_OPEN_EXPORTS) {
      throw new AppError(
        429,
        "too_many_exports",
        `${open} exports of this portal are still running: wait for one to end`,
      );
    }
    const row = await createAuditExport(s, body.filters, body.format, body.timeZone);
    await audit(s.memberId, s.portalId, "audit.export.queued", {
      userId: s.userId,
      exportId: row.id,
      format: row.format,
    });
    return Response.json(exportView(row), { status: 201, headers: { "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
