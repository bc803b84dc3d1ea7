import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";
import { verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken, readSessionToken, SESSION_COOKIE } from "@/lib/auth/session";
import { decode } from "next-auth/jwt";
import { signInWithFrame } from "@/lib/auth/options";
import { getDb } from "@/lib/db";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  await env.control("install", { mode: "ui", finish: true }, 0);
  await env.control("install", { mode: "ui", finish: true }, 1);
});
afterAll(() => env.stop());

const frame = async (userId: number, i = 0) =>
  (await env.control("frame-auth", { userId }, i)) as Record<string, string>;
const post = (path: string, token: string | null, init: RequestInit = {}) =>
  import(`@/app${path}/route`).then((m: { POST: (r: Request, c?: unknown) => Promise<Response> }) =>
    m.POST(
      new Request(`http://app${path}`, {
        method: "POST",
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...init,
      }),
      { params: Promise.resolve({ id: "x" }) },
    ),
  );

describe("frame credentials", () => {
  it("verifies the frame's auth against the installed portal and issues a session", async () => {
    const f = await frame(1);
    const s = await verifyFrameAuth({
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN,
      LANG: "ru",
    });
    expect(s).toMatchObject({
      userId: 1,
      userName: "Anna Admin",
      isAdmin: true,
      lang: "ru",
      portalOrigin: env.portal(0).baseUrl,
    });
    expect(await readSessionToken(await issueSessionToken(s))).toEqual({ ...s, expiresAt: expect.any(Number) });
    // The sign-in runs through next-auth: its credentials provider and jwt callback; its decoder reads the token.
    const signedIn = await signInWithFrame({
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      record: { entity: "deal", id: 3 },
    });
    expect(signedIn.session).toMatchObject({ userId: 1, isAdmin: true, record: { entity: "deal", id: 3 } });
    expect(await decode({ token: signedIn.token, secret: process.env.APP_SECRET! })).toMatchObject({
      sub: `${s.portalId}:1`,
      userId: 1,
      name: "Anna Admin",
    });
    await expect(signInWithFrame({ AUTH_ID: "x".repeat(32), member_id: f.member_id! })).rejects.toMatchObject({
      status: 401,
    });
  });

  it.each([
    ["a wrong APPLICATION_TOKEN", async () => ({ ...(await frame(1)), APPLICATION_TOKEN: "0".repeat(32) })],
    ["an unknown member_id", async () => ({ ...(await frame(1)), member_id: "f".repeat(32) })],
    ["an access token the portal rejects", async () => ({ ...(await frame(1)), AUTH_ID: "x".repeat(32) })],
    [
      "portal A's member_id with portal B's token",
      async () => ({ ...(await frame(1, 1)), member_id: env.portal(0).memberId, APPLICATION_TOKEN: undefined }),
    ],
  ])("refuses %s with 401", async (_name, make) => {
    const f = (await make()) as Record<string, string>;
    await expect(
      verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id!, APPLICATION_TOKEN: f.APPLICATION_TOKEN }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it.each([
    ["OPERATION_TIME_LIMIT", 503],
    ["INTERNAL_SERVER_ERROR", 401],
  ])(
    "reads a user.admin that failed inside the sign-in batch (%s) as no answer, not as 'not an admin'",
    async (code, status) => {
      // halt 0 (lib/auth/frame-auth.ts): the batch succeeds with the command's error beside the others' results
      await env.control("faults", { methodErrors: { "user.admin": code } });
      try {
        const f = await frame(1);
        await expect(verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! })).rejects.toMatchObject({
          status,
        });
      } finally {
        await env.control("faults", { methodErrors: {} });
      }
      const f = await frame(1);
      expect((await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! })).isAdmin).toBe(true);
    },
  );

  it("gives a non-admin a session without admin rights, and admin actions refuse it", async () => {
    const f = await frame(2);
    const s = await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! });
    expect(s.isAdmin).toBe(false);
    const token = await issueSessionToken(s);
    for (const path of ["/api/admin/rebind", "/api/admin/diagnostics", "/api/admin/pending/[id]"]) {
      expect((await post(path, token)).status).toBe(403);
      expect((await post(path, null)).status).toBe(401);
      expect((await post(path, "forged.token.value")).status).toBe(401);
    }
  });

  it("keeps every admin action inside the session's own portal", async () => {
    const [a, b] = await Promise.all([
      getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(0).memberId } }),
      getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(1).memberId } }),
    ]);
    const pendingOfB = await getDb().pendingCall.create({
      data: {
        portalId: b.id,
        method: "crm.deal.delete",
        params: {},
        tokenHash: "x",
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    const f = await frame(1, 0);
    const tokenA = await issueSessionToken(await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! }));
    const rerun = await import("@/app/api/admin/pending/[id]/route");
    const res = await rerun.POST(
      new Request("http://app/api/admin/pending/x", { method: "POST", headers: { authorization: `Bearer ${tokenA}` } }),
      { params: Promise.resolve({ id: pendingOfB.id }) },
    );
    expect(res.status).toBe(404);
    expect((await getDb().pendingCall.findUniqueOrThrow({ where: { id: pendingOfB.id } })).status).toBe("pending");
    const before = env.state(1).log.length;
    expect((await post("/api/admin/rebind", tokenA)).status).toBe(200);
    expect(env.state(1).log.length).toBe(before); // portal B received no call at all
    expect(a.id).not.toBe(b.id);
  });
});

describe("placement hand-off", () => {
  it("answers 303 to the right page with a session token, and refuses bad placement input with 4xx", async () => {
    const f = await frame(1);
    const route = await import("@/app/bitrix/placement/route");
    const send = (fields: Record<string, string>) =>
      route.POST(
        new Request("http://app/bitrix/placement?DOMAIN=x&LANG=en", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(fields),
        }),
      );
    const ok = await send({
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      PLACEMENT: "CRM_CONTACT_DETAIL_TAB",
      PLACEMENT_OPTIONS: '{"ID":"8061"}',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toMatch(/^\/placements\/tab\?entity=contact&id=8061&st=/);
    expect(
      (
        await send({
          AUTH_ID: f.AUTH_ID!,
          member_id: f.member_id!,
          PLACEMENT: "CRM_DEAL_DETAIL_TAB",
          PLACEMENT_OPTIONS: "{nope",
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await send({
          AUTH_ID: f.AUTH_ID!,
          member_id: f.member_id!,
          PLACEMENT: "TASK_VIEW_TAB",
          PLACEMENT_OPTIONS: "{}",
        })
      ).status,
    ).toBe(400);
  });
});

describe("session edges", () => {
  it("takes an API session only from the Authorization header: the cookie alone (a cross-site form) is refused", async () => {
    const f = await frame(1);
    const token = await issueSessionToken(await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! }));
    const before = env.state(0).log.length;
    const viaCookie = await post("/api/admin/rebind", null, {
      headers: { cookie: `${SESSION_COOKIE}=${token}`, "content-type": "text/plain" },
    });
    expect(viaCookie.status).toBe(401);
    expect(env.state(0).log.length).toBe(before); // nothing reached the portal
    expect((await post("/api/admin/rebind", token)).status).toBe(200);
  });

  it("an expired session authorises nothing, but still lets its own portal frame the page that renews it", async () => {
    const f = await frame(1);
    const s = await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id! });
    vi.useFakeTimers({ now: Date.now() - 60 * 60_000, toFake: ["Date"] }); // issued an hour ago: 55 minutes valid
    const stale = await issueSessionToken(s);
    vi.useRealTimers();
    expect(await readSessionToken(stale)).toBeNull();
    expect((await post("/api/admin/rebind", stale)).status).toBe(401);
    const { proxy } = await import("@/proxy");
    const csp = async (st: string) =>
      (
        await proxy(new NextRequest(`http://app/placements/tab?entity=deal&id=1&st=${encodeURIComponent(st)}`))
      ).headers.get("content-security-policy");
    expect(await csp(stale)).toBe(`frame-ancestors ${env.portal(0).baseUrl}`);
    expect(await csp("forged.token.value")).toBe("frame-ancestors 'none'");
  });
});
