import type { ZodError } from "zod";
import { requirePortalAdmin } from "@/lib/auth/session";
import { saveSettings, SettingsInputSchema } from "@/lib/admin/settings";
import { route } from "@/lib/http/route";
import { AppError } from "@/lib/http-errors";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/settings — the portal's settings (retention, sweep period), admins only; the answer is what is
// stored now. Bad input: 400 naming the field; nothing is changed.
const invalid = (e: ZodError) => {
  const issue = e.issues[0]!;
  return new AppError(400, "BAD_SETTINGS", `${issue.path.join(".") || "body"}: ${issue.message}`);
};

export const POST = route(
  { auth: requirePortalAdmin, body: SettingsInputSchema, invalid },
  async ({ session: s, body }) => {
    const settings = await saveSettings(s.portalId, body);
    await audit(s.memberId, s.portalId, "settings.changed", { userId: s.userId, ...body });
    return Response.json(settings);
  },
);
