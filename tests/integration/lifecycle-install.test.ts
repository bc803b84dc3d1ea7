import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
beforeAll(async () => { env = await startAppWithFake({ portals: 2 }); });
afterAll(() => env.stop());

const form = (fields: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString(), redirect: "manual" as const });

describe("install", () => {
  it("installs from the UI installer: identity from the OAuth server, probe, bindings verified, then installFinish", async () => {
    const res = (await env.control("install", { mode: "ui" })) as { status: number; text: string };
    expect(res.status).toBe(303);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } });
    expect(portal).toMatchObject({ status: "active", installStage: "finished", clientEndpoint: env.portal().clientEndpoint, appVersion: "1" });
    const states = await getDb().bindingState.findMany({ where: { portalId: portal.id } });
    expect(states.length).toBeGreaterThan(10);
    expect(states.every((s) => s.actual)).toBe(true);
    const bound = env.state().bindings.map((b) => `${b.offline ? "offline" : "online"}:${b.event}`);
    expect(bound).toContain("offline:ONCRMDEALUPDATE");
    expect(bound).toContain("online:ONAPPUNINSTALL");
    expect(env.state().placements.map((p) => p.placement)).toEqual(expect.arrayContaining(["CRM_DEAL_DETAIL_TAB", "CRM_LEAD_DETAIL_TAB", "CRM_DEAL_DETAIL_TOOLBAR"]));
    const profile = await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId: portal.id } });
    expect(profile.features).toMatchObject({ rest_offline_extended: "Y", rest_auth_connector: "Y" });
    const actions = (await getDb().auditLog.findMany({ where: { portalId: portal.id } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["install.started", "install.finished"]));
  });

  it("installs an API-only app from ONAPPINSTALL (second portal)", async () => {
    const res = (await env.control("install", { mode: "event" }, 1)) as { status: number };
    expect(res.status).toBe(200);
    expect(await getDb().portal.findUnique({ where: { memberId: env.portal(1).memberId } })).toMatchObject({ status: "active", installStage: "finished" });
  });

  it("refuses a forged install: the OAuth server does not confirm it, nothing usable is stored", async () => {
    const before = await getDb().portal.count();
    const res = await fetch(`${env.app.url}/api/bitrix/install?DOMAIN=evil.example&PROTOCOL=1&LANG=en&APP_SID=x`, form({
      AUTH_ID: "a".repeat(32), REFRESH_ID: "b".repeat(32), member_id: "f".repeat(32), APPLICATION_TOKEN: "c".repeat(32), SERVER_ENDPOINT: `${env.fake.oauthUrl}/rest/`, PLACEMENT: "DEFAULT",
    }));
    expect(res.status).toBe(401);
    expect(await getDb().portal.count()).toBe(before);
  });

  it("never sends our client secret to a server_endpoint outside BITRIX_OAUTH_ALLOWED", async () => {
    const res = await fetch(`${env.app.url}/api/bitrix/install`, form({ AUTH_ID: "a", REFRESH_ID: "b", member_id: "abc", APPLICATION_TOKEN: "c", SERVER_ENDPOINT: "https://evil.example/rest/" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("oauth_server_not_allowed");
  });

  it("runs lifecycle work once when two instances receive the same callback", async () => {
    const f = (await env.control("frame-auth", { userId: 1 })) as Record<string, string>;
    const before = env.state().counters.refreshes;
    const body = { AUTH_ID: f.AUTH_ID!, REFRESH_ID: f.REFRESH_ID!, member_id: f.member_id!, APPLICATION_TOKEN: f.APPLICATION_TOKEN!, SERVER_ENDPOINT: f.SERVER_ENDPOINT!, PLACEMENT: "DEFAULT" };
    const [a, b] = await Promise.all([fetch(`${env.app.url}/api/bitrix/install`, form(body)), fetch(`${env.app.url}/api/bitrix/install`, form(body))]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(env.state().counters.refreshes - before).toBe(1);
  });

  it("fails fast with a readable diagnostic when a required method is missing", async () => {
    await env.control("methods", { name: "crm.deal.list", isExisting: false });
    try {
      const res = (await env.control("install", { mode: "ui" })) as { status: number };
      expect(res.status).toBe(303);
      const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } });
      expect(portal.installStage).toBe("blocked");
      const problems = (await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId: portal.id } })).problems as { level: string; message: string }[];
      expect(problems.find((p) => p.level === "error")?.message).toMatch(/crm\.deal\.list is missing on this portal — needed for: Backfill and change capture of deals/);
    } finally {
      await env.control("methods", { name: "crm.deal.list", isExisting: true });
    }
    await env.control("install", { mode: "ui" }); // resumes the half-finished install
    expect((await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).installStage).toBe("finished");
  });
});
