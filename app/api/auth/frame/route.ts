import { FrameAuthSchema } from "@/lib/auth/frame-auth";
import { signInWithFrame } from "@/lib/auth/options";
import { sessionCookie } from "@/lib/auth/session";
import { requireRecordAccess } from "@/lib/auth/user-rights";
import { clientAddress } from "@/lib/auth/verify-limit";
import { HistoryEntitySchema, RecordIdSchema } from "@/lib/history/view";
import { route } from "@/lib/http/route";

// A renewal names the record its page shows: the new session is bound to it, once Bitrix24 lets the user read it.
const RenewSchema = FrameAuthSchema.extend({ entity: HistoryEntitySchema.optional(), id: RecordIdSchema.optional() });

// POST /api/auth/frame — renews a session from B24Frame's (refreshed) auth without reloading the page.
export const POST = route({ body: RenewSchema }, async ({ req, body }) => {
  const record = body.entity && body.id ? { entity: body.entity, id: body.id } : null;
  const { session, token, expiresAt } = await signInWithFrame({ ...body, record, client: clientAddress(req.headers) });
  if (record) await requireRecordAccess(session, record.entity, record.id);
  return Response.json(
    { token, expiresAt },
    { headers: { "set-cookie": sessionCookie(token), "cache-control": "no-store" } },
  );
});
