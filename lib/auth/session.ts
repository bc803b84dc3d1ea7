import "server-only";
import { decode, encode } from "next-auth/jwt";
import { loadEnv } from "@/lib/env";
import { isStillAdmin } from "@/lib/auth/user-rights";
import { getDb } from "@/lib/db";
import { SIGN_IN_STATUSES } from "@/lib/portals/portals";
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
  /**
   * The user's own access token (the frame's AUTH_ID), inside the encrypted session: every read of a record and
   * every write on a user's behalf is made with it, so Bitrix24 enforces the user's own rights (lib/auth/user-rights.ts).
   */
  userToken: string;
  /** The record the portal opened the frame for (a CRM tab or widget); null for the app's main page. */
  record: { entity: string; id: number } | null;
  /** The portal's install time when the session was issued: a session from before an uninstall + reinstall is void. */
  installedAt: number;
}

export const SESSION_COOKIE = "b24_session";
export const SESSION_TTL_S = 55 * 60; // shorter than the frame's AUTH_EXPIRES (3600 s)
/**
 * How long an expired session still names its portal for `frame-ancestors`: the page that renews it through B24Frame
 * must be allowed to render inside that portal's iframe. It authorises nothing else.
 */
const FRAMING_TTL_S = 12 * 3600;

/** `authExpiresAt`: when the frame's AUTH_ID expires (ms); the session never outlives the token it carries. */
export async function issueSessionToken(s: PortalSession, authExpiresAt?: number): Promise<string> {
  const validUntil = Math.min(Date.now() + SESSION_TTL_S * 1000, authExpiresAt ?? Infinity);
  return encode({
    token: { ...s, sub: `${s.portalId}:${s.userId}`, validUntil },
    secret: loadEnv().APP_SECRET,
    maxAge: FRAMING_TTL_S,
  });
}

async function decodeToken(token: string | null | undefined) {
  if (!token) return null;
  try {
    const t = await decode({ token, secret: loadEnv().APP_SECRET });
    return t &&
      typeof t.portalId === "string" &&
      typeof t.userId === "number" &&
      typeof t.validUntil === "number" &&
      typeof t.userToken === "string"
      ? t
      : null;
  } catch {
    return null;
  }
}

/** The session a token carries, and when it expires (ms), or null when it is missing, forged or expired. */
export async function readSessionToken(
  token: string | null | undefined,
): Promise<(PortalSession & { expiresAt: number }) | null> {
  const t = await decodeToken(token);
  if (!t || (t.validUntil as number) < Date.now()) return null;
  const record = t.record as { entity?: unknown; id?: unknown } | null | undefined;
  return {
    portalId: String(t.portalId),
    memberId: String(t.memberId),
    portalOrigin: String(t.portalOrigin),
    userId: Number(t.userId),
    userName: String(t.userName),
    isAdmin: t.isAdmin === true,
    lang: t.lang === "ru" ? "ru" : "en",
    userToken: String(t.userToken),
    record: record && typeof record.entity === "string" ? { entity: record.entity, id: Number(record.id) } : null,
    installedAt: Number(t.installedAt),
    expiresAt: t.validUntil as number,
  };
}

/** The request header in which proxy.ts tells a page the language of readFraming (always set by it, never the browser's). */
export const LANG_HEADER = "x-session-lang";

/**
 * The portal origin and the user's language of an authentic session token, expired or not (see FRAMING_TTL_S): for
 * CSP and for the language of a page that cannot use the session (proxy.ts), never for access.
 */
export async function readFraming(
  token: string | null | undefined,
): Promise<{ origin: string; lang: "en" | "ru" } | null> {
  const t = await decodeToken(token);
  return t ? { origin: String(t.portalOrigin), lang: t.lang === "ru" ? "ru" : "en" } : null;
}

/** `SameSite=None; Secure; Partitioned` — the only cookie a cross-site iframe may keep (CHIPS). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=${SESSION_TTL_S}`;
}

/**
 * The session token of a request's `Cookie` header: the one way the cookie is read (pages and the proxy, for page
 * navigations; API routes never read it, see tokenFromRequest).
 */
export function sessionTokenFromCookie(cookieHeader: string | null | undefined): string | null {
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookieHeader ?? "")?.[1] ?? null;
}

/**
 * API routes take the session only from `Authorization: Bearer` — never from the cookie, which another site's form
 * could make the browser send (CSRF); the pages' script always sends the header.
 */
export function tokenFromRequest(req: Request): string | null {
  return /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? null;
}

const EXPIRED = "Session missing or expired: reopen the app from Bitrix24";

/**
 * A session is only as good as what granted it: the portal must still have the app installed — the same install
 * (an uninstall and reinstall voids every older session) — when the session is used, not only when it was issued.
 */
export async function checkSessionPortal<S extends PortalSession>(s: S | null): Promise<S | null> {
  if (!s) return null;
  const portal = await getDb().portal.findUnique({
    where: { id: s.portalId },
    select: { status: true, installedAt: true },
  });
  if (!portal || !SIGN_IN_STATUSES.has(portal.status) || portal.installedAt.getTime() !== s.installedAt) return null;
  return s;
}

export async function requirePortalSession(req: Request): Promise<PortalSession> {
  const s = await checkSessionPortal(await readSessionToken(tokenFromRequest(req)));
  if (!s) throw new AppError(401, "unauthorized", EXPIRED);
  return s;
}

/**
 * Admin actions re-check the user's admin rights with their own token (`user.admin`): a demoted admin loses them at
 * once, not when the session expires. Reads (`fresh: false`) may use an answer up to 30 s old.
 */
export async function requirePortalAdmin(req: Request, opts: { fresh?: boolean } = {}): Promise<PortalSession> {
  const s = await requirePortalSession(req);
  if (!(await isAdminNow(s, opts.fresh ?? req.method !== "GET"))) {
    throw new AppError(403, "forbidden", "Only portal administrators can do this");
  }
  return s;
}

/** The session's admin flag, asked again of Bitrix24 (`user.admin`; `fresh: false` may use an answer up to 30 s old). */
export async function isAdminNow(s: PortalSession, fresh: boolean): Promise<boolean> {
  return s.isAdmin && (await isStillAdmin(s, fresh));
}
