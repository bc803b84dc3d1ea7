import { z } from "zod";
import { requirePortalAdmin } from "@/lib/auth/session";
import { revertChange } from "@/lib/history/revert";
import { readJsonBody } from "@/lib/http/read-body";
import { toErrorResponse } from "@/lib/http-errors";

const BodySchema = z.object({ changeId: z.string().regex(/^\d{1,18}$/, "must be a change id") });

// POST /api/history/revert — writes the old value back. Admins only: the write uses the app's (admin) token, which
// would otherwise let any user change fields their own Bitrix24 role does not allow.
export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    const { changeId } = BodySchema.parse(await readJsonBody(req));
    return Response.json(await revertChange(s.portalId, BigInt(changeId), s.userId));
  } catch (error) {
    return toErrorResponse(error);
  }
}
