import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { JOB_HANDLERS } from "@/lib/composition/registry";
import { renderMetrics } from "@/lib/metrics/prometheus";
import { listAppAlerts } from "@/lib/portals/alerts";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

// Tenants heal themselves (issue #18 items 4-5, #13 items 11-12): our configuration errors are an app-wide alert and
// disable no portal; a refused refresh token or an admin who lost admin rights waits for the next admin's frame,
// whose REFRESH_ID re-arms the portal without a reinstall; idle portals are kept alive before 180 days pass.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const portal = () => getDb().portal.findUniqueOrThrow({ where: { id: portalId } });
const call = async () => (await bitrixFor(portalId)).call("crm.deal.get", { id: 1 }, { lane: "interactive" });

beforeAll(async () => {
  env = await startAppWithFake();
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId); // baselines, so an edit made while the app waits is a change once it resumes
});
afterAll(() => env.stop());
beforeEach(async () => {
  await getDb().portal.update({
    where: { id: portalId },
    data: { status: "active", terminalReason: null, tokensProblem: null },
  });
});

/** The app's main page as Bitrix24 opens it for a user: the core form POST into the iframe. */
async function openApp(userId: number) {
  const f = (await env.control("frame-auth", { userId, form: "core" })) as Record<string, string>;
  const route = await import("@/app/bitrix/app/route");
  const body = new URLSearchParams({
    AUTH_ID: f.AUTH_ID!,
    AUTH_EXPIRES: "3600",
    REFRESH_ID: f.REFRESH_ID!,
    member_id: f.member_id!,
    status: "L",
    PLACEMENT: "DEFAULT",
  });
  return route.POST(
    new Request("http://app/bitrix/app?DOMAIN=x&LANG=en", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    }),
  );
}

describe("our configuration errors are not the tenant's", () => {
  it("a wrong client secret raises an app-wide alert, disables no portal, and clears when fixed", async () => {
    const secret = process.env.BITRIX_CLIENT_SECRET!;
    await env.control("tokens/expire");
    process.env.BITRIX_CLIENT_SECRET = "a-wrongly-deployed-secret-0123456789";
    resetEnvForTests();
    try {
      await expect(call()).rejects.toMatchObject({ code: "invalid_client", kind: "config" });
      expect((await portal()).status).toBe("active");
      expect((await listAppAlerts()).map((a) => a.code)).toEqual(["INVALID_CLIENT"]);
      expect(await renderMetrics()).toMatch(/b24_config_alert\{code="INVALID_CLIENT"\} [1-9]/);
    } finally {
      process.env.BITRIX_CLIENT_SECRET = secret;
      resetEnvForTests();
    }
    await expect(call()).resolves.toMatchObject({ result: { ID: "1" } }); // the portal resumes as it was
    expect(await listAppAlerts()).toEqual([]);
    expect(await renderMetrics()).not.toContain("b24_config_alert{");
  });
});

describe("an allow-list deployed without the portal's OAuth server", () => {
  it("raises the app-wide alert, disables no portal, sends nothing to the server, and clears when fixed", async () => {
    const [allowed, oauthUrl] = [process.env.BITRIX_OAUTH_ALLOWED!, process.env.BITRIX_OAUTH_URL!];
    await env.control("tokens/expire");
    // The configured server is always allowed (lib/env.ts): the bad deploy names another, so the portal's is left out.
    process.env.BITRIX_OAUTH_ALLOWED = process.env.BITRIX_OAUTH_URL = "https://oauth.example.invalid";
    resetEnvForTests();
    const before = env.state().counters.refreshAttempts;
    try {
      await expect(call()).rejects.toMatchObject({ code: "OAUTH_SERVER_NOT_ALLOWED", kind: "config" });
      expect((await portal()).status).toBe("active");
      expect((await listAppAlerts()).map((a) => a.code)).toContain("OAUTH_SERVER_NOT_ALLOWED");
      expect(await renderMetrics()).toMatch(/b24_config_alert\{code="OAUTH_SERVER_NOT_ALLOWED"\} [1-9]/);
      expect(env.state().counters.refreshAttempts).toBe(before); // the refresh token never left for another server
    } finally {
      [process.env.BITRIX_OAUTH_ALLOWED, process.env.BITRIX_OAUTH_URL] = [allowed, oauthUrl];
      resetEnvForTests();
    }
    await expect(call()).resolves.toMatchObject({ result: { ID: "1" } });
    expect(await listAppAlerts()).toEqual([]);
  });
});

describe("a refused refresh token (invalid_grant)", () => {
  it("puts the portal in needs_reauth; an admin opening the app re-arms it and the waiting work resumes", async () => {
    for (const info of env.fake.fake.refreshTokens.values()) info.rotated = true; // the rotated answer was lost
    await env.control("tokens/expire");
    await expect(call()).rejects.toMatchObject({ code: "invalid_grant" });
    expect(await portal()).toMatchObject({ status: "needs_reauth", terminalReason: "invalid_grant" });
    await env.control("crm/deal/3", { fields: { TITLE: "Edited while the app had no access" }, userId: 2 });
    expect((await openApp(2)).status).toBe(303); // an employee's visit cannot re-arm it
    expect((await portal()).status).toBe("needs_reauth");
    expect((await openApp(1)).status).toBe(303);
    expect(await portal()).toMatchObject({ status: "active", terminalReason: null });
    await expect(call()).resolves.toMatchObject({ result: { ID: "1" } });
    await drainOffline(portalId);
    const { processInboxBatch } = await import("@/lib/events/inbox");
    while (await processInboxBatch("test", 50));
    expect(await getDb().fieldChange.count({ where: { portalId, entityId: 3, field: "TITLE" } })).toBe(1);
    expect(await getDb().auditLog.count({ where: { portalId, action: "portal.rearmed" } })).toBe(1);
  });
});

describe("the admin whose tokens the app uses loses admin rights", () => {
  it("is detected on admin-only methods, shown, and repaired by another admin's frame open", async () => {
    const owner = (await getDb().tokenSet.findUniqueOrThrow({ where: { portalId } })).userId!;
    const other = owner === 3 ? 4 : 3;
    env.state().users.get(other)!.ADMIN = true; // a second administrator
    env.state().users.get(owner)!.ADMIN = false;
    try {
      await expect((await bitrixFor(portalId)).call("event.get", {}, { lane: "interactive" })).resolves.toBeDefined(); // app-level, still fine
      await expect(
        (await bitrixFor(portalId)).call("event.offline.get", { clear: 0 }, { lane: "interactive" }),
      ).rejects.toMatchObject({ code: "ACCESS_DENIED" });
      expect((await portal()).tokensProblem).toBe("token_owner_not_admin");
      const { loadAdminOverview } = await import("@/lib/admin/overview");
      expect((await loadAdminOverview(portalId)).portal.tokensProblem).toBe("token_owner_not_admin");
      expect((await openApp(other)).status).toBe(303);
      expect((await portal()).tokensProblem).toBeNull();
      expect((await getDb().tokenSet.findUniqueOrThrow({ where: { portalId } })).userId).toBe(other);
      await expect(
        (await bitrixFor(portalId)).call("event.offline.get", { clear: 0 }, { lane: "interactive" }),
      ).resolves.toBeDefined();
    } finally {
      env.state().users.get(owner)!.ADMIN = true;
      env.state().users.get(other)!.ADMIN = false;
    }
  });
});

describe("refresh tokens die after 180 days unused", () => {
  it("an idle portal is kept alive by the scheduled refresh, by the fake's clock", async () => {
    const stale = async () =>
      getDb().tokenSet.update({
        where: { portalId },
        data: { refreshedAt: new Date(Date.now() - 31 * 24 * 3600_000) },
      });
    await env.control("crm/deal/1", {}); // make sure the stored pair is a fresh one
    await call();
    await stale();
    await env.control("clock", { advance: 170 * 24 * 3600 }); // 170 days idle: the refresh token still lives
    expect(
      await JOB_HANDLERS["tokens.keepalive"]!({ id: 1n, portalId, kind: "tokens.keepalive", payload: {}, attempts: 1 }),
    ).toBe("refreshed");
    await env.control("clock", { advance: 170 * 24 * 3600 }); // another 170 days: alive only thanks to the keep-alive
    await stale();
    expect(
      await JOB_HANDLERS["tokens.keepalive"]!({ id: 2n, portalId, kind: "tokens.keepalive", payload: {}, attempts: 1 }),
    ).toBe("refreshed");
    expect((await portal()).status).toBe("active");
    // Without it: 181 days after the last refresh, the token is dead.
    await env.control("clock", { advance: 181 * 24 * 3600 });
    await env.control("tokens/expire");
    await expect(call()).rejects.toMatchObject({ code: "invalid_grant" });
    expect((await portal()).status).toBe("needs_reauth");
  });
});
