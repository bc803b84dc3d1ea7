import { describe, expect, it } from "vitest";
import { readSessionToken } from "@/lib/auth/session";
import {
  A,
  B,
  byPath,
  footprint as footprintOf,
  FORM,
  frameAuth,
  refusals,
  send,
  setUpSecurityEnv,
  withoutFailures,
} from "../support/security-env";

// Threat: one portal's frame auth, hand-off or application_token used for another portal; secrets visible in the
// hand-off's session token or in the public routes (docs/security.md).
const s = setUpSecurityEnv();
const footprint = (i: number) => footprintOf(s.env, s.portals[i]!.id, i);
const frame = (i: number, userId = 1, extra: Record<string, unknown> = {}) => frameAuth(s.env, i, userId, extra);

describe("frame auth, hand-off and events of one portal cannot be used for another", () => {
  const title = "%s: portal B's frame token presented as portal A ⇒ 401, no session, B gets no request";
  it.each(["/api/auth/frame", "/bitrix/app", "/bitrix/placement"])(title, async (p) => {
    const f = await frame(B, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 3 } });
    const beforeB = await footprint(B);
    const variants: Record<string, string>[] = [
      { member_id: s.portals[A]!.memberId },
      { member_id: s.portals[A]!.memberId, APPLICATION_TOKEN: s.env.state(A).app.applicationToken },
    ];
    // The attacker's own address: failed verifications are limited per portal and client (lib/auth/verify-limit.ts).
    const headers = { "x-forwarded-for": `192.0.2.${p.length}` };
    for (const fields of variants) {
      const input = {
        AUTH_ID: f.AUTH_ID!,
        PLACEMENT: f.PLACEMENT!,
        PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!,
        ...fields,
      };
      const res =
        p === "/api/auth/frame"
          ? await send(byPath(p), { body: input, headers })
          : await send(byPath(p), { form: input, query: "?DOMAIN=x&LANG=en", headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).not.toMatch(/"token"/);
    }
    expect(await footprint(B)).toEqual(beforeB);
  });

  const handOff =
    "the hand-off's session token is our own encrypted session: only the user's own short-lived AUTH_ID " +
    "inside, never visible";
  it(handOff, async () => {
    const f = await frame(A, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 3 } });
    const form = {
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      PLACEMENT: f.PLACEMENT!,
      PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!,
    };
    const res = await send(byPath("/bitrix/placement"), { form, query: "?DOMAIN=x&LANG=en" });
    expect(res.status, await res.clone().text()).toBe(303);
    const st = new URL(res.headers.get("location")!, "http://app").searchParams.get("st")!;
    const session = (await readSessionToken(st))!;
    expect(session).toMatchObject({ portalId: s.portals[A]!.id, userId: 1, isAdmin: true });
    // The user's own access token travels encrypted inside (their reads and writes go with their rights, decision 011)
    expect(Object.keys(session).filter((k) => /token|auth|refresh|secret/i.test(k))).toEqual(["userToken"]);
    expect(session.userToken).toBe(f.AUTH_ID);
    expect(JSON.stringify(session)).not.toMatch(new RegExp([f.REFRESH_ID, f.APPLICATION_TOKEN].join("|")));
    const decoded = st.split(".").map((part) => Buffer.from(part, "base64url").toString("latin1"));
    const visible = [st, ...decoded].join("\n");
    const secrets = [f.AUTH_ID!, f.REFRESH_ID!, f.APPLICATION_TOKEN!, s.portals[A]!.memberId, session.userName];
    for (const secret of secrets) expect(visible).not.toContain(secret);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("an event with portal B's application_token presented as portal A ⇒ 401, nothing queued", async () => {
    const before = [await footprint(A), await footprint(B)];
    const body =
      "event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=3&ts=1" +
      `&auth%5Bmember_id%5D=${s.portals[A]!.memberId}` +
      `&auth%5Bapplication_token%5D=${s.env.state(B).app.applicationToken}`;
    const res = await fetch(`${s.env.app.url}/api/bitrix/events`, { method: "POST", headers: FORM, body });
    expect(res.status).toBe(401);
    const after = [await footprint(A), await footprint(B)];
    expect(after[1]).toEqual(before[1]);
    expect(withoutFailures(after[0]!.rows)).toEqual(withoutFailures(before[0]!.rows)); // only the failure is recorded
    expect(refusals(after[0]!.rows)).toBe(refusals(before[0]!.rows) + 1);
  });

  it("the public routes carry no identity or secret", async () => {
    const text = await (await send(byPath("/api/metrics"))).text();
    expect(text).toMatch(/b24_portals/);
    for (const i of [A, B]) {
      const identities = [s.env.portal(i).memberId, s.env.portal(i).domain, s.env.state(i).app.applicationToken];
      for (const id of identities) expect(text).not.toContain(id);
    }
    expect(await (await send(byPath("/api/health"))).json()).toEqual({ ok: true });
  });
});
