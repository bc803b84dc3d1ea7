import "server-only";
import { decode, encode } from "next-auth/jwt";
import { loadEnv } from "@/lib/env";
import { AppError } from "@/lib/http-errors";

// The session is a next-auth JWT (same secret and format as lib/auth/options.ts). Inside a cross-site iframe the
// browser may refuse cookies, so the token also travels in `Authorization: Bearer` from the client (like Shopify's
// session tokens and Atlassian's X-acpt); the cookie is a convenience when the browser allows it.
export interface PortalSession {
  portalId: string;
  memberId: string;
  portalOrigin: string;
  userId: number;
  userName: string;
  isAdmin: boolean;
  lang: "en" | "ru";
}

export const SESSION_COOKIE = "b24_session";
export const SESSION_TTL_S = 55 * 60; // shorter than the frame's AUTH_EXPIRES (3600 s)

export async function issueSessionToken(s: PortalSession): Promise<string> {
  return encode({ token: { ...s, sub: `${s.portalId}:${s.userId}` }, secret: loadEnv().APP_SECRET, maxAge: SESSION_TTL_S });
}

/** The session a token carries, and when it expires (ms), or null when it is missing, forged or expired. */
export async function readSessionToken(token: string | null | undefined): Promise<(PortalSession & { expiresAt: number }) | null> {
  if (!token) return null;
  try {
    const t = await decode({ token, secret: loadEnv().APP_SECRET });
    if (!t || typeof t.portalId !== "string" || typeof t.userId !== "number") return null;
    return { portalId: t.portalId, memberId: String(t.memberId), portalOrigin: String(t.portalOrigin), userId: t.userId, userName: String(t.userName), isAdmin: t.isAdmin === true, lang: t.lang === "ru" ? "ru" : "en",
      expiresAt: typeof t.exp === "number" ? t.exp * 1000 : Date.now() };
  } catch {
    return null;
  }
}

/** `SameSite=None; Secure; Partitioned` — the only cookie a cross-site iframe may keep (CHIPS). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=${SESSION_TTL_S}`;
}

export function tokenFromRequest(req: Request): string | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (bearer) return bearer;
  const cookie = req.headers.get("cookie") ?? "";
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookie)?.[1] ?? null;
}

export async function requirePortalSession(req: Request): Promise<PortalSession> {
  const s = await readSessionToken(tokenFromRequest(req));
  if (!s) throw new AppError(401, "unauthorized", "Session missing or expired: reopen the app from Bitrix24");
  return s;
}

export async function requirePortalAdmin(req: Request): Promise<PortalSession> {
  const s = await requirePortalSession(req);
  if (!s.isAdmin) throw new AppError(403, "forbidden", "Only portal administrators can do this");
  return s;
}
