import { requirePortalAdmin } from "@/lib/auth/session";
import { AppError, toErrorResponse } from "@/lib/http-errors";
import { saveSettings, SettingsInputSchema } from "@/lib/admin/settings";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/settings — the portal's settings (retention, sweep period), admins only; the answer is what is
// stored now. Bad input: 400 naming the field; nothing is changed.
export async function POST(req: Request) {
  try {
    const s = await requirePortalAdmin(req);
    const parsed = SettingsInputSchema.safeParse(await req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AppError(400, "BAD_SETTINGS", `${issue.path.join(".") || "body"}: ${issue.message}`);
    }
    const settings = await saveSettings(s.portalId, parsed.data);
    await audit(s.memberId, s.portalId, "settings.changed", { userId: s.userId, ...parsed.data });
    return Response.json(settings);
  } catch (error) {
    return toErrorResponse(error);
  }
}
