import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
});
afterAll(() => env.stop());

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
  redirect: "manual" as const,
});

describe("install", () => {
  it("installs from the UI installer: identity from the OAuth server, probe, bindings verified, then installFinish", async () => {
    const res = (await env.control("install", { mode: "ui" })) as { status: number; text: string };
    expect(res.status).toBe(303);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } });
    expect(portal).toMatchObject({
      status: "active",
      installStage: "finished",
      clientEndpoint: env.portal().clientEndpoint,
      appVersion: "1",
    });
    const states = await getDb().bindingState.findMany({ where: { portalId: portal.id } });
    expect(states.length).toBeGreaterThan(10);
    expect(states.every((s) => s.actual)).toBe(true);
    const bound = env.state().bindings.map((b) => `${b.offline ? "offline" : "online"}:${b.event}`);
    expect(bound).toContain("offline:ONCRMDEALUPDATE");
    expect(bound).toContain("online:ONAPPUNINSTALL");
    expect(env.state().placements.map((p) => p.placement)).toEqual(
      expect.arrayContaining(["CRM_DEAL_DETAIL_TAB", "CRM_LEAD_DETAIL_TAB", "CRM_DEAL_DETAIL_TOOLBAR"]),
    );
    const profile = await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId: portal.id } });
    expect(profile.features).toMatchObject({ rest_offline_extended: "Y", rest_auth_connector: "Y" });
    const actions = (await getDb().auditLog.findMany({ where: { portalId: portal.id } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["install.started", "install.finished"]));
  });

  it("installs an API-only app from ONAPPINSTALL (second portal)", async () => {
    const res = (await env.control("install", { mode: "event" }, 1)) as { status: number };
    expect(res.status).toBe(200);
    expect(await getDb().portal.findUnique({ where: { memberId: env.portal(1).memberId } })).toMatchObject({
      status: "active",
      installStage: "finished",
    });
  });

  it("refuses a forged install: the OAuth server does not confirm it, nothing usable is stored", async () => {
    const before = await getDb().portal.count();
    const res = await fetch(
      `${env.app.url}/api/bitrix/install?DOMAIN=evil.example&PROTOCOL=1&LANG=en&APP_SID=x`,
      form({
        AUTH_ID: "a".repeat(32),
        REFRESH_ID: "b".repeat(32),
        member_id: "f".repeat(32),
        APPLICATION_TOKEN: "c".repeat(32),
        SERVER_ENDPOINT: `${env.fake.oauthUrl}/rest/`,
        PLACEMENT: "DEFAULT",
      }),
    );
    expect(res.status).toBe(401);
    expect(await getDb().portal.count()).toBe(before);
  });

  it("never sends our client secret to a server_endpoint outside BITRIX_OAUTH_ALLOWED", async () => {
    const res = await fetch(
      `${env.app.url}/api/bitrix/install`,
      form({
        AUTH_ID: "a",
        REFRESH_ID: "b",
        member_id: "abc",
        APPLICATION_TOKEN: "c",
        SERVER_ENDPOINT: "https://evil.example/rest/",
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("oauth_server_not_allowed");
  });

  it("runs lifecycle work once when two instances receive the same callback", async () => {
    const f = (await env.control("frame-auth", { userId: 1 })) as Record<string, string>;
    const before = env.state().counters.refreshes;
    const body = {
      AUTH_ID: f.AUTH_ID!,
      REFRESH_ID: f.REFRESH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      SERVER_ENDPOINT: f.SERVER_ENDPOINT!,
      PLACEMENT: "DEFAULT",
    };
    const [a, b] = await Promise.all([
      fetch(`${env.app.url}/api/bitrix/install`, form(body)),
      fetch(`${env.app.url}/api/bitrix/install`, form(body)),
    ]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(env.state().counters.refreshes - before).toBe(1);
  });

  it("fails fast with a readable diagnostic when a required method is missing", async () => {
    await env.control("methods", { name: "crm.item.list", isExisting: false });
    try {
      const res = (await env.control("install", { mode: "ui" })) as { status: number };
      expect(res.status).toBe(303);
      const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } });
      expect(portal.installStage).toBe("blocked");
      const problems = (await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId: portal.id } }))
        .problems as { level: string; message: string }[];
      expect(problems.find((p) => p.level === "error")?.message).toMatch(
        /crm\.item\.list is missing on this portal — needed for: Backfill and change capture of every CRM type/,
      );
    } finally {
      await env.control("methods", { name: "crm.item.list", isExisting: true });
    }
    await env.control("install", { mode: "ui" }); // resumes the half-finished install
    expect((await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).installStage).toBe(
      "finished",
    );
  });
});

// Bitrix24's core installer form (docs/lifecycle.md "Forms Bitrix24 posts"): no SERVER_ENDPOINT, APPLICATION_TOKEN,
// APPLICATION_SCOPE. The application_token comes with ONAPPINSTALL.
describe("install from the form Bitrix24's core posts", () => {
  const row = (i = 1) =>
    getDb().portal.findUnique({ where: { memberId: env.portal(i).memberId }, omit: { applicationTokenHash: false } });
  const crmEvent = (i = 1) =>
    fetch(
      `${env.app.url}/api/bitrix/events`,
      form({
        event: "ONCRMDEALUPDATE",
        "data[FIELDS][ID]": "1",
        ts: String(Math.floor(Date.now() / 1000)),
        "auth[member_id]": env.portal(i).memberId,
        "auth[application_token]": env.state(i).app.applicationToken,
      }),
    );
  // Several installs of one portal in a row: a plan whose limits do not make each one wait out the last.
  beforeAll(() => env.control("plan", { burst: 1000, drain: 100 }, 1));
  const fresh = async (i = 1) => {
    if (await row(i)) await env.control("uninstall", { clean: true }, i);
    expect(await row(i)).toBeNull();
  };

  it("the core form installs, and the application_token arrives with ONAPPINSTALL", async () => {
    await fresh();
    const res = (await env.control("install", { mode: "ui", onAppInstall: "none" }, 1)) as {
      status: number;
      installEvent: unknown;
    };
    expect(res).toMatchObject({ status: 303, installEvent: null });
    expect(await row()).toMatchObject({ status: "active", installStage: "finished", applicationTokenHash: null });
    expect((await crmEvent()).status).toBe(401); // no token yet: nothing can be verified
    const finishedRuns = await getDb().auditLog.count({
      where: { memberId: env.portal(1).memberId, action: "install.finished" },
    });

    await env.control("install-finish", {}, 1); // the portal sends ONAPPINSTALL
    expect((await row())?.applicationTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await crmEvent()).status).toBe(200);
    const actions = (await getDb().auditLog.findMany({ where: { memberId: env.portal(1).memberId } })).map(
      (a) => a.action,
    );
    expect(actions).toContain("install.token_received");
    // The event brought the token only: the installer form's lifecycle is not run a second time.
    expect(actions.filter((a) => a === "install.finished")).toHaveLength(finishedRuns);
  });

  it("accepts exactly the fields of the core form", async () => {
    const f = (await env.control("frame-auth", { userId: 1, form: "core" }, 1)) as Record<string, string>;
    const fields = {
      AUTH_ID: f.AUTH_ID!,
      AUTH_EXPIRES: f.AUTH_EXPIRES!,
      REFRESH_ID: f.REFRESH_ID!,
      member_id: f.member_id!,
      status: f.status!,
      PLACEMENT: "DEFAULT",
    };
    expect(Object.keys(f)).not.toEqual(expect.arrayContaining(["SERVER_ENDPOINT"]));
    expect(f.APPLICATION_TOKEN).toBeUndefined();
    const res = await fetch(
      `${env.app.url}/api/bitrix/install?DOMAIN=${env.portal(1).domain}&PROTOCOL=0&LANG=en&APP_SID=x`,
      form(fields),
    );
    expect(res.status).toBe(303);
    expect((await row())?.applicationTokenHash).toMatch(/^[0-9a-f]{64}$/); // a reopened installer keeps the token
  });

  it("works when ONAPPINSTALL arrives before the installer form", async () => {
    await fresh();
    const res = (await env.control("install", { mode: "ui", onAppInstall: "before", finish: true }, 1)) as {
      status: number;
      installEvent: { status: number };
    };
    expect(res.installEvent.status).toBe(200);
    expect(res.status).toBe(303);
    expect(await row()).toMatchObject({ status: "active", installStage: "finished" });
    expect((await crmEvent()).status).toBe(200); // the form without a token kept the event's
  });

  it("still installs from the richer form of newer docs pages", async () => {
    await fresh();
    const res = (await env.control("install", { mode: "ui", rich: true, onAppInstall: "none", finish: true }, 1)) as {
      status: number;
    };
    expect(res.status).toBe(303);
    expect((await crmEvent()).status).toBe(200); // the token came with the form
  });

  it("without SERVER_ENDPOINT offers the refresh token to the allowed OAuth servers in order", async () => {
    const { startFakeBitrix } = await import("../fake-portal/index");
    const { resetEnvForTests } = await import("@/lib/env");
    const other = await startFakeBitrix({
      portals: 1,
      seed: { deals: 1, contacts: 1, companies: 1, leads: 1 },
      app: { ...env.fake.fake.app },
    });
    const saved = { url: process.env.BITRIX_OAUTH_URL, allowed: process.env.BITRIX_OAUTH_ALLOWED };
    // The default server knows nothing of this portal (another region): the next allowed one does.
    Object.assign(process.env, {
      BITRIX_OAUTH_URL: other.oauthUrl,
      BITRIX_OAUTH_ALLOWED: `${other.oauthUrl},${env.fake.oauthUrl}`,
    });
    resetEnvForTests();
    try {
      const res = (await env.control("install", { mode: "ui", onAppInstall: "none" }, 1)) as {
        status: number;
        text: string;
      };
      expect(res.status).toBe(303);
    } finally {
      Object.assign(process.env, { BITRIX_OAUTH_URL: saved.url, BITRIX_OAUTH_ALLOWED: saved.allowed });
      resetEnvForTests();
      await other.stop();
    }
  });
});
