// A real session for a fake portal's user: the fake issues the frame's auth (as it would post it into the iframe),
// the app verifies it against the portal and issues its token — the same path as a browser's placement hand-off.
import { verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken, type PortalSession } from "@/lib/auth/session";

type Control = (route: string, body?: unknown, i?: number) => Promise<Record<string, unknown>>;

export async function frameSession(control: Control, userId: number, record: PortalSession["record"] = null, i = 0) {
  const f = (await control("frame-auth", { userId }, i)) as Record<string, string>;
  const session = await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! }, record);
  return { session, token: await issueSessionToken(session) };
}
