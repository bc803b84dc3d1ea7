import { readBitrixForm } from "@/lib/bitrix/form-parser";
import { acceptEvent } from "@/lib/events/accept";
import { route } from "@/lib/http/route";
import { installFromInstallerForm } from "@/lib/lifecycle/installer";

// POST /api/bitrix/install — the installer form POST (UI install, answered with 303 to /install/finish), or the
// ONAPPINSTALL event for apps installed without UI (answered 200).
export const POST = route({}, async ({ req }) => {
  const form = await readBitrixForm(req);
  if (typeof form.event === "string") return Response.json(await acceptEvent(form));
  const location = await installFromInstallerForm(form, new URL(req.url).searchParams);
  return new Response(null, { status: 303, headers: { location } });
});
