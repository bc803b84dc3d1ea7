import { NextResponse, type NextRequest } from "next/server";
import { readFramingOrigin, sessionTokenFromCookie } from "@/lib/auth/session";
import { verifySigned } from "@/lib/crypto";

// Every page may be framed only by the portal its session belongs to (CSP frame-ancestors), and the hand-off token
// in the URL never leaks through a Referer. The install finish page has no session yet: the installer's 303 names
// the installing portal's origin, signed (`fa`), so only that portal can frame it. Anything else: no one.
async function frameAncestor(req: NextRequest): Promise<string> {
  // An expired session still names its portal: the placement page that renews it must render in that frame.
  const origin = await readFramingOrigin(req.nextUrl.searchParams.get("st") ?? sessionTokenFromCookie(req.headers.get("cookie")));
  if (origin) return origin;
  const signed = req.nextUrl.pathname === "/install/finish" ? verifySigned(req.nextUrl.searchParams.get("fa") ?? "") : null;
  return signed && /^https?:\/\/[^\s/;,']+$/.test(signed) ? signed : "'none'";
}

export async function proxy(req: NextRequest) {
  const res = NextResponse.next();
  res.headers.set("content-security-policy", `frame-ancestors ${await frameAncestor(req)}`);
  res.headers.set("referrer-policy", "no-referrer");
  return res;
}

// Every page, whichever router serves it; not the APIs, Bitrix24's POST endpoints, static files or build assets.
export const config = { matcher: ["/((?!api/|bitrix/|assets/|_next/|favicon\\.ico).*)"] };
