import { NextResponse, type NextRequest } from "next/server";
import { LANG_HEADER, readFraming, sessionTokenFromCookie } from "@/lib/auth/session";
import { verifySigned } from "@/lib/crypto";
import { parsePlacementQuery } from "@/lib/history/view-query";

// Every page may be framed only by the portal its session belongs to (CSP frame-ancestors), and the hand-off token
// in the URL never leaks through a Referer. The install finish page has no session yet: the installer's 303 names
// the installing portal's origin, signed (`fa`), so only that portal can frame it. Anything else: no one.
async function frameAncestor(req: NextRequest, origin: string | undefined): Promise<string> {
  if (origin) return origin;
  const signed =
    req.nextUrl.pathname === "/install/finish" ? verifySigned(req.nextUrl.searchParams.get("fa") ?? "") : null;
  return signed && /^https?:\/\/[^\s/;,']+$/.test(signed) ? signed : "'none'";
}

const PLACEMENTS = new Set(["/placements/tab", "/placements/widget"]);

export async function proxy(req: NextRequest) {
  // An expired session still names its portal and its user's language: the page that renews it must render in that
  // frame, in that language; so must the 403 and 404 boundaries, which get no props (docs/decisions/013).
  const framing = await readFraming(
    req.nextUrl.searchParams.get("st") ?? sessionTokenFromCookie(req.headers.get("cookie")),
  );
  const request = { headers: new Headers(req.headers) };
  // Always set by us, so a header the browser sent never reaches the page.
  request.headers.set(
    LANG_HEADER,
    framing?.lang ?? (/^ru\b/i.test(req.headers.get("accept-language") ?? "") ? "ru" : "en"),
  );
  // A page cannot answer 400 itself: a placement address with a malformed parameter is served with that status, and
  // the page names the parameter (lib/history/pages.ts, same check) — unless it has no session, then it answers 401.
  const invalid = PLACEMENTS.has(req.nextUrl.pathname) && !parsePlacementQuery(req.nextUrl.searchParams).ok;
  const res = invalid ? NextResponse.rewrite(req.nextUrl, { status: 400, request }) : NextResponse.next({ request });
  res.headers.set("content-security-policy", `frame-ancestors ${await frameAncestor(req, framing?.origin)}`);
  res.headers.set("referrer-policy", "no-referrer");
  return res;
}

// Every page, whichever router serves it; not the APIs, Bitrix24's POST endpoints, static files or build assets.
export const config = { matcher: ["/((?!api/|bitrix/|assets/|_next/|favicon\\.ico).*)"] };
