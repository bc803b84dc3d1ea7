import "server-only";
import { headers } from "next/headers";
import { checkSessionPortal, readSessionToken, sessionTokenFromCookie, type PortalSession } from "@/lib/auth/session";

/**
 * A page's session, only while its portal still has the same install of the app: the `st` hand-off token from the
 * URL (cookie-less iframes) or the session cookie.
 */
export async function getPageSession(
  st: string | undefined,
): Promise<{ session: PortalSession; token: string } | null> {
  const token = st ?? sessionTokenFromCookie((await headers()).get("cookie"));
  const session = await checkSessionPortal(await readSessionToken(token));
  return session && token ? { session, token } : null;
}
