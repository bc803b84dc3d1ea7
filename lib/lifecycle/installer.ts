import "server-only";
import { z } from "zod";
import type { FormObject } from "@/lib/bitrix/form-parser";
import { signValue } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { installFromClaim } from "@/lib/lifecycle/install";

// The UI install: Bitrix24 opens the installer URL in an iframe with a form POST (docs/bitrix24.md#install). After the
// lifecycle ran, the browser is sent to /install/finish, which calls installFinish() through B24Frame — or shows
// the problems that block the install (then installFinish is NOT called, so nothing half-works).
// Bitrix24's core posts AUTH_ID, AUTH_EXPIRES, REFRESH_ID, member_id, status, PLACEMENT (+ PLACEMENT_OPTIONS when not
// empty) and no SERVER_ENDPOINT / APPLICATION_TOKEN (docs/lifecycle.md "Forms"): the application_token then comes
// with ONAPPINSTALL, and the refresh token is offered to the allowed OAuth servers in order.
const InstallerFormSchema = z.object({
  AUTH_ID: z.string().min(1).max(512),
  REFRESH_ID: z.string().min(1).max(512),
  member_id: z.string().regex(/^[a-zA-Z0-9]{1,64}$/, "must be a member_id"),
  APPLICATION_TOKEN: z.string().min(1).max(128).optional(),
  SERVER_ENDPOINT: z.string().max(512).optional(),
});

export async function installFromInstallerForm(form: FormObject, query: URLSearchParams): Promise<string> {
  const f = InstallerFormSchema.parse(form);
  const outcome = await installFromClaim({
    memberId: f.member_id,
    refreshToken: f.REFRESH_ID,
    serverEndpoint: f.SERVER_ENDPOINT || null,
    applicationToken: f.APPLICATION_TOKEN ?? null,
    source: "installer",
  });
  // `fa`: the portal's origin, signed, so that only this portal may frame the finish page (proxy.ts).
  const portal = await getDb().portal.findUniqueOrThrow({ where: { id: outcome.portalId } });
  const next = new URLSearchParams({
    lang: query.get("LANG") ?? "en",
    state: outcome.ok ? "ok" : "blocked",
    p: signValue(outcome.portalId),
    fa: signValue(new URL(portal.clientEndpoint).origin),
  });
  return `/install/finish?${next}`;
}
