import { z } from "zod";
import { requirePortalSession } from "@/lib/auth/session";
import { attachHistoryCsv } from "@/lib/history/export";
import { toErrorResponse } from "@/lib/http-errors";

const BodySchema = z.object({ entity: z.enum(["deal", "contact", "company", "lead"]), id: z.coerce.number().int().positive() });

// POST /api/history/export — "Attach history as CSV" on the record's timeline (the session's portal only).
export async function POST(req: Request) {
  try {
    const s = await requirePortalSession(req);
    const body = BodySchema.parse(await req.json().catch(() => ({})));
    return Response.json(await attachHistoryCsv(s.portalId, body.entity, body.id, s.lang));
  } catch (error) {
    return toErrorResponse(error);
  }
}
