import { FrameAuthSchema, verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken, sessionCookie, SESSION_TTL_S } from "@/lib/auth/session";
import { readJsonBody } from "@/lib/http/read-body";
import { toErrorResponse } from "@/lib/http-errors";

// POST /api/auth/frame — renews a session from B24Frame's (refreshed) auth without reloading the page.
export async function POST(req: Request) {
  try {
    const auth = FrameAuthSchema.parse(await readJsonBody(req));
    const token = await issueSessionToken(await verifyFrameAuth(auth));
    return Response.json({ token, expiresAt: Date.now() + SESSION_TTL_S * 1000 }, { headers: { "set-cookie": sessionCookie(token), "cache-control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
