import "server-only";
import { decode, encode } from "next-auth/jwt";
import { loadEnv } from "@/lib/env";
import { AppError } from "@/lib/http-errors";

// The session is a next-auth JWT (same secret and format as lib/auth/options.ts). Inside a cross-site iframe the
// browser may refuse cookies, so the token also travels in `Authorization: Bearer` from the client (like Shopify's
// session tokens and Atlassian's X-acpt); the cookie only helps page navigations when the browser keeps it.
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
/**
 * How long an expired session still names its portal for `frame-ancestors`: the page that renews it through B24Frame
 * must be allowed to render inside that portal's iframe. It authorises nothing else.
 */
const FRAMING_TTL_S = 12 * 3600;

export async function issueSessionToken(s: PortalSession): Promise<string> {
  const validUntil = Date.now() + SESSION_TTL_S * 1000;
  return encode({ token: { ...s, sub: `${s.portalId}:${s.userId}`, validUntil }, secret: loadEnv().APP_SECRET, maxAge: FRAMING_TTL_S });
}

async function decodeToken(token: string | null | undefined) {
  if (!token) return null;
  try {
    const t = await decode({ token, secret: loadEnv().APP_SECRET });
    return t && typeof t.portalId === "string" && typeof t.userId === "number" && typeof t.validUntil === "number" ? t : null;
  } catch {
    return null;
  }
}

/** The session a token carries, and when it expires (ms), or null when it is missing, forged or expired. */
export async function readSessionToken(token: string | null | undefined): Promise<(PortalSession & { expiresAt: number }) | null> {
  const t = await decodeToken(token);
  if (!t || (t.validUntil as number) < Date.now()) return null;
  return { portalId: String(t.portalId), memberId: String(t.memberId), portalOrigin: String(t.portalOrigin), userId: Number(t.userId), userName: String(t.userName),
    isAdmin: t.isAdmin === true, lang: t.lang === "ru" ? "ru" : "en", expiresAt: t.validUntil as number };
}

/** The portal origin of an authentic session token, expired or not (see FRAMING_TTL_S): for CSP only. */
export async function readFramingOrigin(token: string | null | undefined): Promise<string | null> {
  const t = await decodeToken(token);
  return t ? String(t.portalOrigin) : null;
}

/** `SameSite=None; Secure; Partitioned` — the only cookie a cross-site iframe may keep (CHIPS). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=${SESSION_TTL_S}`;
}

/**
 * API routes take the session only from `Authorization: Bearer` — never from the cookie, which another site's form
 * could make the browser send (CSRF); the pages' script always sends the header.
 */
export function tokenFromRequest(req: Request): string | null {
  return /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? null;
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
