import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { waitUntil } from "../support/lifecycle-env";
import {
  B,
  byPath,
  C,
  footprint as footprintOf,
  FORM,
  frameAuth,
  refusals,
  send,
  setUpSecurityEnv,
  withoutFailures,
} from "../support/security-env";

// Threat: taking over a portal's install (forged ONAPPINSTALL / ONAPPUPDATE, another portal's or a non-admin's
// refresh token, the installer form with a non-admin's frame auth) and replaying bodies captured before a reinstall
// (docs/security.md). Portal C is installed by the tests themselves; B is a second, installed portal.
const s = setUpSecurityEnv();
const footprint = (i: number) => footprintOf(s.env, s.portals[i]!.id, i);
const frame = (i: number, userId = 1, extra: Record<string, unknown> = {}) => frameAuth(s.env, i, userId, extra);

describe("install, reinstall and replays (portal C)", () => {
  const sent: string[] = [];
  const realFetch = globalThis.fetch;
  let oldToken = "",
    newToken = "";
  beforeAll(() => {
    // Records what the fake Bitrix24 pushes to the app, so the test can replay the exact bodies later.
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.startsWith(s.env.app.url) && typeof init?.body === "string") sent.push(init.body);
      return realFetch(input, init);
    });
  });
  afterAll(() => vi.restoreAllMocks());
  const captured = (event: string) => sent.filter((b) => new URLSearchParams(b).get("event") === event).at(-1);
  const post = (route: "events" | "install", body: string) =>
    realFetch(`${s.env.app.url}/api/bitrix/${route}`, { method: "POST", headers: FORM, body, redirect: "manual" });
  const crmEvent = (token: string, ts: number) =>
    `event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=2` +
    `&ts=${ts}&auth%5Bmember_id%5D=${s.env.portal(C).memberId}&auth%5Bapplication_token%5D=${token}`;
  const lifecycle = (event: string, refresh: string, memberId: string, appToken: string) =>
    new URLSearchParams({
      event,
      "data[VERSION]": "1",
      ts: "1",
      "auth[access_token]": randomBytes(16).toString("hex"),
      "auth[refresh_token]": refresh,
      "auth[server_endpoint]": `${s.env.fake.oauthUrl}/rest/`,
      "auth[client_endpoint]": s.env.portal(C).clientEndpoint,
      "auth[member_id]": memberId,
      "auth[application_token]": appToken,
    }).toString();
  const storedC = () =>
    getDb().portal.findUniqueOrThrow({
      where: { memberId: s.env.portal(C).memberId },
      omit: { applicationTokenHash: false },
    });
  /** The portal may see the app ask `user.admin` with the presented token — and nothing else. */
  const onlyAdminCheck = (since: number) => {
    const calls = s.env
      .state(C)
      .log.slice(since)
      .map((e) => e.rest);
    expect(calls.every((m) => m === "user.admin")).toBe(true);
    return calls.length;
  };

  it("installs from ONAPPINSTALL; after uninstall the reinstall brings a new application_token", async () => {
    expect(((await s.env.control("install", { mode: "event" }, C)) as { status: number }).status).toBe(200);
    s.portals[C] = await storedC();
    oldToken = s.env.state(C).app.applicationToken;
    expect(s.portals[C]).toMatchObject({ status: "active", applicationTokenHash: sha256Hex(oldToken) });
    expect((await post("events", crmEvent(oldToken, 100))).status).toBe(200);
    await s.env.control("crm/deal/2", { fields: { TITLE: "before uninstall" } }, C); // ONOFFLINEEVENT, pushed online
    await waitUntil(() => captured("ONOFFLINEEVENT") !== undefined);
    await s.env.control("uninstall", { clean: false }, C);
    expect(await storedC()).toMatchObject({ status: "uninstalled" });
    // Bitrix24 issues a new application_token with every installation; the fake keeps one per portal, so set it here.
    s.env.state(C).app.applicationToken = newToken = randomBytes(16).toString("hex");
    expect(((await s.env.control("install", { mode: "ui", finish: true }, C)) as { status: number }).status).toBe(303);
    expect(await storedC()).toMatchObject({ status: "active", applicationTokenHash: sha256Hex(newToken) });
  });

  const replayed =
    "refuses every body replayed with the old application_token: events, offline notice, uninstall, " + "frame auth";
  it(replayed, async () => {
    const before = await footprint(C);
    const uninstall = captured("ONAPPUNINSTALL")!;
    const purge = uninstall.replace("CLEAN%5D=0", "CLEAN%5D=1");
    expect(purge).not.toBe(uninstall);
    const replays = [crmEvent(oldToken, 100), crmEvent(oldToken, 101), captured("ONOFFLINEEVENT")!, uninstall, purge];
    for (const body of replays) expect((await post("events", body)).status).toBe(401);
    const f = await frame(C, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 2 } });
    const stale = {
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: oldToken,
      PLACEMENT: f.PLACEMENT!,
      PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!,
    };
    expect((await send(byPath("/api/auth/frame"), { body: stale })).status).toBe(401);
    expect((await send(byPath("/bitrix/placement"), { form: stale, query: "?DOMAIN=x" })).status).toBe(401);
    const after = await footprint(C);
    // still installed, data and tokens intact
    expect(withoutFailures(after.rows)).toEqual(withoutFailures(before.rows));
    expect(refusals(after.rows) - refusals(before.rows)).toBe(7);
    expect((await post("events", crmEvent(newToken, 102))).status).toBe(200); // the new token works
  });

  it("a replayed ONAPPINSTALL of the first installation does not bring the old identity back", async () => {
    const before = await footprint(C);
    const res = await post("install", captured("ONAPPINSTALL")!);
    expect(res.status).toBeLessThan(500);
    expect(await footprint(C)).toEqual(before);
    expect((await storedC()).applicationTokenHash).toBe(sha256Hex(newToken));
  });

  const anyToken = async () => randomBytes(16).toString("hex");
  const refreshOf = (i: number, userId: number) => async () => (await frame(i, userId)).REFRESH_ID!;
  it.each([
    ["a forged ONAPPINSTALL", "install", "ONAPPINSTALL", anyToken],
    ["a forged ONAPPUPDATE", "events", "ONAPPUPDATE", anyToken],
    ["ONAPPINSTALL with portal B's valid refresh token", "install", "ONAPPINSTALL", refreshOf(B, 1)],
    ["ONAPPUPDATE with portal B's valid refresh token", "events", "ONAPPUPDATE", refreshOf(B, 1)],
    ["ONAPPINSTALL with a non-admin user's own refresh token", "install", "ONAPPINSTALL", refreshOf(C, 2)],
    ["ONAPPUPDATE with a non-admin user's own refresh token", "events", "ONAPPUPDATE", refreshOf(C, 2)],
  ] as const)("%s cannot take over portal C's application_token or tokens", async (_name, route, event, refresh) => {
    const before = [await footprint(C), await footprint(B)];
    const res = await post(route, lifecycle(event, await refresh(), s.env.portal(C).memberId, "attacker-chosen-token"));
    expect([401, 403]).toContain(res.status);
    const after = [await footprint(C), await footprint(B)];
    const adminCheckOnly = (f: (typeof before)[number], i: number) =>
      i === 0 ? { ...f, requests: f.requests + onlyAdminCheck(f.requests) } : f;
    expect(after).toEqual(before.map(adminCheckOnly));
    expect((await post("events", crmEvent(newToken, 200 + sent.length))).status).toBe(200);
  });

  it("the installer form with a non-admin user's frame auth cannot reinstall the app over the admin's", async () => {
    const before = await footprint(C);
    const f = await frame(C, 2);
    const form = new URLSearchParams({
      AUTH_ID: f.AUTH_ID!,
      REFRESH_ID: f.REFRESH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: "attacker-chosen-token",
      SERVER_ENDPOINT: f.SERVER_ENDPOINT!,
      PLACEMENT: "DEFAULT",
    });
    const res = await post("install", form.toString());
    expect(res.status).toBe(403);
    expect(await footprint(C)).toEqual({ ...before, requests: before.requests + onlyAdminCheck(before.requests) });
  });
});
