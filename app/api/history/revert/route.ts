import { z } from "zod";
import { isAdminNow, requirePortalSession } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { revertChange } from "@/lib/history/revert";
import { route } from "@/lib/http/route";
import { AppError } from "@/lib/http-errors";

const BodySchema = z.object({
  changeId: z.string().regex(/^\d{1,18}$/, "must be a change id"),
  /** write even though the field has changed since (the 409 answer shows its current value) */
  overwrite: z.boolean().optional(),
});

// POST /api/history/revert — writes the old value back, for a user who may read the record: an employee's revert is
// written with their own token (Bitrix24 applies their role), an admin's with the app's token (confirmations).
// 409 when the field no longer holds the change's new value, unless `overwrite`.
export const POST = route(
  { auth: requirePortalSession, body: BodySchema },
  async ({ session: s, body: { changeId, overwrite } }) => {
    // The portal's setting (admin page): "admins" keeps reverts to portal administrators, asked again of Bitrix24.
    const { revertPolicy } = await getDb().portal.findUniqueOrThrow({
      where: { id: s.portalId },
      select: { revertPolicy: true },
    });
    if (revertPolicy === "admins" && !(await isAdminNow(s, true))) {
      throw new AppError(403, "revert_admins_only", "On this portal only administrators may revert changes");
    }
    return Response.json(
      await revertChange(s.portalId, BigInt(changeId), { userId: s.userId, session: s }, { overwrite }),
    );
  },
);
