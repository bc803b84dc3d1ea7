import "server-only";
import { cookies } from "next/headers";
import { readSessionToken, SESSION_COOKIE, type PortalSession } from "@/lib/auth/session";

/** A page's session: the `st` hand-off token from the URL (cookie-less iframes) or the session cookie. */
export async function getPageSession(st: string | undefined): Promise<{ session: PortalSession; token: string } | null> {
  const token = st ?? (await cookies()).get(SESSION_COOKIE)?.value ?? null;
  const session = await readSessionToken(token);
  return session && token ? { session, token } : null;
}
