import { FrameAuthSchema } from "@/lib/auth/frame-auth";
import { signInWithFrame } from "@/lib/auth/options";
import { sessionCookie } from "@/lib/auth/session";
import { requireRecordAccess } from "@/lib/auth/user-rights";
import { readJsonBody } from "@/lib/http/read-body";
import { clientAddress } from "@/lib/auth/verify-limit";
import { toErrorResponse } from "@/lib/http-errors";
import { HistoryEntitySchema, RecordIdSchema } from "@/lib/history/view";

// A renewal names the record its page shows: the new session is bound to it, once Bitrix24 lets the user read it.
const RenewSchema = FrameAuthSchema.extend({ entity: HistoryEntitySchema.optional(), id: RecordIdSchema.optional() });

// POST /api/auth/frame — renews a session from B24Frame's (refreshed) auth without reloading the page.
export async function POST(req: Request) {
  try {
    const body = RenewSchema.parse(await readJsonBody(req));
    const record = body.entity && body.id ? { entity: body.entity, id: body.id } : null;
    const { session, token, expiresAt } = await signInWithFrame({ ...body, record, client: clientAddress(req.headers) });
    if (record) await requireRecordAccess(session, record.entity, record.id);
    return Response.json({ token, expiresAt }, { headers: { "set-cookie": sessionCookie(token), "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
