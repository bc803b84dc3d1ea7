import { NextResponse, type NextRequest } from "next/server";
import { readSessionToken, SESSION_COOKIE } from "@/lib/auth/session";

// App pages may be framed only by the portal the session belongs to (CSP frame-ancestors), and the hand-off token in
// the URL never leaks through a Referer.
export async function proxy(req: NextRequest) {
  const token = req.nextUrl.searchParams.get("st") ?? req.cookies.get(SESSION_COOKIE)?.value;
  const session = await readSessionToken(token);
  const res = NextResponse.next();
  res.headers.set("content-security-policy", `frame-ancestors ${session ? session.portalOrigin : "'none'"}`);
  res.headers.set("referrer-policy", "no-referrer");
  return res;
}

export const config = { matcher: ["/admin/:path*", "/placements/:path*"] };
