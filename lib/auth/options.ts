import "server-only";
import type { NextAuthOptions, User } from "next-auth";
import type { JWT } from "next-auth/jwt";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { FrameAuthSchema, verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken, readSessionToken, SESSION_TTL_S, type PortalSession } from "@/lib/auth/session";
import { loadEnv } from "@/lib/env";
import { AppError } from "@/lib/http-errors";

// next-auth is the one session mechanism (docs/decisions/011-next-auth-frame-sign-in.md): its credentials provider
// verifies the Bitrix24 frame's auth, its jwt callback shapes the token, its JWT encoding (encrypted, APP_SECRET)
// carries it. Bitrix24's frame POST is the sign-in — no next-auth page, CSRF cookie or callback URL, which a
// cross-site iframe could not keep — so next-auth's HTTP endpoints are not mounted: `signInWithFrame` runs the same
// provider and callback the endpoint would, and the token travels as `st` / `Authorization: Bearer`.

/** What the frame hands over, plus what the app knows about the request: the record and the client's address. */
const CredentialsSchema = FrameAuthSchema.extend({
  record: z.object({ entity: z.string(), id: z.number().int().positive() }).nullable().optional(),
  client: z.string().max(100).optional(),
});
export type FrameCredentials = z.infer<typeof CredentialsSchema>;

const frameProvider = CredentialsProvider({
  id: "bitrix-frame",
  name: "Bitrix24",
  credentials: {
    AUTH_ID: { type: "text" },
    member_id: { type: "text" },
    APPLICATION_TOKEN: { type: "text" },
    LANG: { type: "text" },
  },
  async authorize(credentials) {
    const c = CredentialsSchema.parse(credentials);
    const s = await verifyFrameAuth(c, c.record ?? null, c.client);
    return { id: `${s.portalId}:${s.userId}`, name: s.userName, ...s } as User;
  },
});

export function authOptions(): NextAuthOptions {
  return {
    secret: loadEnv().APP_SECRET,
    session: { strategy: "jwt", maxAge: SESSION_TTL_S },
    providers: [frameProvider],
    callbacks: {
      // The session is the portal session the provider verified; next-auth's `name`/`id` are derived from it.
      jwt: ({ token, user }) => (user ? ({ ...token, ...user, sub: user.id } as JWT) : token),
    },
  };
}

/**
 * Signs a frame in through next-auth: the credentials provider's `authorize` (which throws a clear AppError: 401,
 * 429, 503) and the jwt callback, then next-auth's JWT encoding. Returns the session and its token.
 */
export async function signInWithFrame(
  credentials: FrameCredentials,
): Promise<{ session: PortalSession; token: string; expiresAt: number }> {
  const options = authOptions();
  const provider = options.providers[0] as unknown as {
    options: { authorize: (c: unknown, req: unknown) => Promise<User | null> };
  };
  const user = await provider.options.authorize(credentials, {});
  if (!user) throw new AppError(401, "unauthorized", "The portal did not accept this frame's auth");
  const jwt = (await options.callbacks!.jwt!({ token: {}, user, account: null, trigger: "signIn" } as never)) as JWT &
    PortalSession;
  const authExpiresAt = credentials.AUTH_EXPIRES ? Date.now() + credentials.AUTH_EXPIRES * 1000 : undefined;
  const token = await issueSessionToken(jwt, authExpiresAt);
  return { session: jwt, token, expiresAt: (await readSessionToken(token))?.expiresAt ?? Date.now() };
}
