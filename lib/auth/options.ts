import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { FrameAuthSchema, verifyFrameAuth } from "@/lib/auth/frame-auth";
import { loadEnv } from "@/lib/env";
import { SESSION_TTL_S } from "@/lib/auth/session";

// next-auth with one credentials provider: the Bitrix24 frame's auth, verified against the installed portal.
export function authOptions(): NextAuthOptions {
  return {
    secret: loadEnv().APP_SECRET,
    session: { strategy: "jwt", maxAge: SESSION_TTL_S },
    cookies: {
      // Partitioned (CHIPS), like lib/auth/session.ts: a SameSite=None cookie a cross-site iframe keeps, never sent
      // when another top-level site makes the request.
      sessionToken: { name: "b24_nextauth", options: { httpOnly: true, sameSite: "none", secure: true, partitioned: true, path: "/" } },
    },
    providers: [
      CredentialsProvider({
        id: "bitrix-frame",
        name: "Bitrix24",
        credentials: { AUTH_ID: { type: "text" }, member_id: { type: "text" }, APPLICATION_TOKEN: { type: "text" }, DOMAIN: { type: "text" }, LANG: { type: "text" } },
        async authorize(credentials) {
          const parsed = FrameAuthSchema.safeParse(credentials);
          if (!parsed.success) return null;
          try {
            const s = await verifyFrameAuth(parsed.data);
            return { id: `${s.portalId}:${s.userId}`, name: s.userName, ...s };
          } catch {
            return null;
          }
        },
      }),
    ],
    callbacks: {
      jwt: ({ token, user }) => (user ? { ...token, ...user } : token),
      session: ({ session, token }) => ({ ...session, portal: { portalId: token.portalId, userId: token.userId, isAdmin: token.isAdmin } }),
    },
  };
}
