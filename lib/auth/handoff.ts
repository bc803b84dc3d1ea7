import "server-only";
import { z } from "zod";
import { readBitrixForm } from "@/lib/bitrix/form-parser";
import { FrameAuthSchema } from "@/lib/auth/frame-auth";
import { signInWithFrame } from "@/lib/auth/options";
import { sessionCookie, type PortalSession } from "@/lib/auth/session";
import { clientAddress } from "@/lib/auth/verify-limit";
import { AppError } from "@/lib/http-errors";
import { parsePlacement } from "@/lib/history/entity-types";
import { rearmFromAdminFrame } from "@/lib/lifecycle/rearm";

// Bitrix24 opens the app and every placement with a form POST into the iframe (docs/bitrix24.md#frame-post); App Router
// pages are GET-only, so the POST is verified here and answered with 303 to the page (window.name survives).
// The page URL carries the short-lived session token (`st`, as Shopify's `id_token`), because a cross-site iframe may
// not keep cookies; the cookie is set too for browsers that allow it. Referrer-Policy keeps `st` out of Referers.

const OptionsSchema = z.object({ ID: z.union([z.string(), z.number()]).optional() }).loose();

export function placementTarget(
  placement: string,
  rawOptions: string | undefined,
): { path: string; record: PortalSession["record"] } {
  if (placement === "DEFAULT") return { path: "/admin", record: null };
  // CRM_<DEAL|…|QUOTE|SMART_INVOICE|DYNAMIC_<entityTypeId>>_<DETAIL_TAB|…> (lib/history/entity-types.ts)
  const m = parsePlacement(placement);
  if (!m)
    throw new AppError(400, "unsupported_placement", `This app has no page for placement ${placement.slice(0, 60)}`);
  let options: z.infer<typeof OptionsSchema>;
  try {
    options = OptionsSchema.parse(JSON.parse(rawOptions || "{}"));
  } catch {
    throw new AppError(400, "invalid_request", "PLACEMENT_OPTIONS is not valid JSON");
  }
  const id = Number(options.ID);
  if (!Number.isInteger(id) || id <= 0)
    throw new AppError(400, "invalid_request", "PLACEMENT_OPTIONS.ID must be a record id");
  const page = m.kind === "DETAIL_TAB" ? "tab" : "widget";
  const entity = m.key;
  return { path: `/placements/${page}?entity=${entity}&id=${id}`, record: { entity, id } };
}

export async function frameHandoff(req: Request, defaultPlacement: "DEFAULT" | null): Promise<Response> {
  const url = new URL(req.url);
  const form = await readBitrixForm(req);
  const auth = FrameAuthSchema.parse({
    ...form,
    DOMAIN: url.searchParams.get("DOMAIN") ?? undefined,
    LANG: url.searchParams.get("LANG") ?? undefined,
  });
  const placement = typeof form.PLACEMENT === "string" ? form.PLACEMENT : (defaultPlacement ?? "");
  const target = placementTarget(
    placement || "DEFAULT",
    typeof form.PLACEMENT_OPTIONS === "string" ? form.PLACEMENT_OPTIONS : undefined,
  );
  const { token, session } = await signInWithFrame({
    ...auth,
    record: target.record,
    client: clientAddress(req.headers),
  });
  // An admin's frame brings a REFRESH_ID: it re-arms a portal whose own tokens were refused or lost admin rights.
  if (session.isAdmin)
    await rearmFromAdminFrame(session.portalId, typeof form.REFRESH_ID === "string" ? form.REFRESH_ID : undefined);
  const location = `${target.path}${target.path.includes("?") ? "&" : "?"}st=${encodeURIComponent(token)}`;
  return new Response(null, {
    status: 303,
    headers: {
      location,
      "set-cookie": sessionCookie(token),
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}
