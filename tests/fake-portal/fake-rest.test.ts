import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, keyPaths, startWithRecorder } from "./support";

let f: Awaited<ReturnType<typeof startWithRecorder>>;
beforeAll(async () => {
  f = await startWithRecorder();
  await f.control("install", { mode: "event" });
});
afterAll(() => f.stop());

async function grant(params: Record<string, string>) {
  const res = await fetch(`${f.running.oauthUrl}/oauth/token/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("OAuth server", () => {
  it("answers a refresh with exactly the documented keys, and rotates the refresh token", async () => {
    const { REFRESH_ID } = await f.frame();
    const first = await grant({
      grant_type: "refresh_token",
      client_id: "app.test",
      client_secret: "secret",
      refresh_token: REFRESH_ID!,
    });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(
      Object.keys(fixture("oauth/token.refresh_token.response.docs.json")).sort(),
    );
    expect(first.body.client_endpoint).toBe(f.portal.clientEndpoint);
    const again = await grant({
      grant_type: "refresh_token",
      client_id: "app.test",
      client_secret: "secret",
      refresh_token: REFRESH_ID!,
    });
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const wrongSecret = await grant({
      grant_type: "refresh_token",
      client_id: "app.test",
      client_secret: "nope",
      refresh_token: String(first.body.refresh_token),
    });
    expect(wrongSecret.body.error).toBe("invalid_client");
  });

  it("expires access tokens after 3600 s of the fake's clock", async () => {
    const { AUTH_ID } = await f.frame();
    expect((await f.rest("user.current", {}, AUTH_ID!)).status).toBe(200);
    await f.control("clock", { advance: 3601 });
    expect(await f.rest("user.current", {}, AUTH_ID!)).toMatchObject({ status: 401, body: { error: "expired_token" } });
  });

  it("answers PAYMENT_REQUIRED when the plan expired", async () => {
    const { REFRESH_ID, AUTH_ID } = await f.frame();
    await f.control("plan", { paymentExpired: true });
    try {
      expect(
        await grant({
          grant_type: "refresh_token",
          client_id: "app.test",
          client_secret: "secret",
          refresh_token: REFRESH_ID!,
        }),
      ).toEqual({ status: 402, body: fixture("oauth/token.error.PAYMENT_REQUIRED.docs.json") });
      expect((await f.rest("user.current", {}, AUTH_ID!)).body.error).toBe("PAYMENT_REQUIRED");
    } finally {
      await f.control("plan", { paymentExpired: false });
    }
  });
});

describe("REST envelopes", () => {
  it("has the documented success envelope and time block", async () => {
    const { AUTH_ID } = await f.frame();
    const r = await f.rest("user.current", {}, AUTH_ID!);
    expect(Object.keys(r.body).sort()).toEqual(["result", "time"]);
    expect(Object.keys(r.body.time as object).sort()).toEqual(
      Object.keys(fixture("rest/time.full.docs.json").time).sort(),
    );
  });

  it("pages with start/next/total, and start=-1 skips the count", async () => {
    const { AUTH_ID } = await f.frame();
    const p1 = await f.rest("crm.deal.list", { select: ["ID"] }, AUTH_ID!);
    expect(p1.body).toMatchObject({ total: 120, next: 50 });
    expect((p1.body.result as unknown[]).length).toBe(50);
    const p3 = await f.rest("crm.deal.list", { select: ["ID"], start: 100 }, AUTH_ID!);
    expect((p3.body.result as unknown[]).length).toBe(20);
    expect(p3.body.next).toBeUndefined();
    const fast = await f.rest("crm.deal.list", { order: { ID: "ASC" }, filter: { ">ID": 100 }, start: -1 }, AUTH_ID!);
    expect((fast.body.result as { ID: string }[])[0]!.ID).toBe("101");
    expect(fast.body.next).toBeUndefined();
  });

  it("answers errors with Bitrix24's codes and statuses", async () => {
    const admin = (await f.frame(1)).AUTH_ID!;
    const user = (await f.frame(2)).AUTH_ID!;
    expect(await f.rest("no.such.method", {}, admin)).toMatchObject({
      status: 404,
      body: { error: "ERROR_METHOD_NOT_FOUND" },
    });
    expect(await f.rest("event.offline.get", {}, user)).toEqual({
      status: 403,
      body: fixture("rest/errors/403.ACCESS_DENIED.event.offline.get.docs.json"),
    });
    expect(await f.rest("user.current", {}, "garbage")).toMatchObject({
      status: 401,
      body: { error: "invalid_token" },
    });
    expect(await f.rest("feature.get", {}, admin)).toMatchObject({ status: 400, body: { error: "CODE_EMPTY" } });
  });

  it("enforces the leaky bucket per portal with 503 QUERY_LIMIT_EXCEEDED", async () => {
    const { AUTH_ID } = await f.frame();
    await f.control("plan", { burst: 5, drain: 1 });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () => f.rest("user.current", {}, AUTH_ID!).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(6);
    const counters = (await f.control("counters", {}, "GET")) as { served503: number };
    expect(counters.served503).toBeGreaterThanOrEqual(6);
    await f.control("plan", { burst: 50, drain: 2 });
    await new Promise((r) => setTimeout(r, 50));
  });

  it("blocks a method over its operating time with 429 OPERATION_TIME_LIMIT", async () => {
    const { AUTH_ID } = await f.frame();
    await f.control("plan", { operatingLimit: 0.02, burst: 500, drain: 100 });
    await f.rest("crm.deal.get", { id: 1 }, AUTH_ID!);
    await f.rest("crm.deal.get", { id: 1 }, AUTH_ID!);
    expect(await f.rest("crm.deal.get", { id: 1 }, AUTH_ID!)).toMatchObject({
      status: 429,
      body: { error: "OPERATION_TIME_LIMIT" },
    });
    expect((await f.rest("user.current", {}, AUTH_ID!)).status).toBe(200); // other methods keep working
    await f.control("plan", { operatingLimit: 480 });
  });

  it("applies the documented select masks and the @ (IN) filter of crm.*.list", async () => {
    const { AUTH_ID } = await f.frame();
    const list = async (select?: string[]) =>
      (
        await f.rest(
          "crm.contact.list",
          { filter: { "@ID": [2, 1, 99] }, ...(select ? { select } : {}), start: -1 },
          AUTH_ID!,
        )
      ).body.result as Record<string, unknown>[];
    const star = await list(["*"]);
    expect(star.map((r) => r.ID)).toEqual(["1", "2"]);
    // "*": no custom and no multiple fields; "UF_*": custom but not multiple ones; multiple fields only by name.
    expect(Object.keys(star[0]!).some((k) => k.startsWith("UF_") || k === "PHONE" || k === "EMAIL")).toBe(false);
    const all = (await list(["*", "UF_*"]))[0]!;
    expect(all).toHaveProperty("UF_CRM_TEXT");
    expect(all).not.toHaveProperty("UF_CRM_TAGS");
    expect(all).not.toHaveProperty("PHONE");
    expect((await list(["*", "UF_*", "PHONE", "UF_CRM_TAGS"]))[0]).toMatchObject({
      PHONE: [expect.objectContaining({ VALUE_TYPE: "WORK" })],
      UF_CRM_TAGS: expect.any(Array),
    });
    const got = (await f.rest("crm.contact.get", { id: 1 }, AUTH_ID!)).body.result as Record<string, unknown>;
    expect(got).toHaveProperty("PHONE"); // get returns every field
    expect(
      (await f.rest("crm.contact.list", { filter: { "!@ID": [1] }, select: ["ID"], start: -1 }, AUTH_ID!)).body.result,
    ).not.toContainEqual({ ID: "1" });
  });

  it("lists the fast >ID pattern right after adds and deletes", async () => {
    const { AUTH_ID } = await f.frame();
    const ids = async (after: number) =>
      (
        (
          await f.rest(
            "crm.lead.list",
            { order: { ID: "ASC" }, filter: { ">ID": after }, select: ["ID"], start: -1 },
            AUTH_ID!,
          )
        ).body.result as { ID: string }[]
      ).map((r) => Number(r.ID));
    const before = await ids(0);
    const added = (await f.rest("crm.lead.add", { fields: { TITLE: "new lead" } }, AUTH_ID!)).body.result as number;
    await f.rest("crm.lead.delete", { id: before[0] }, AUTH_ID!);
    const after = await ids(0);
    expect(after).toContain(added);
    expect(after).not.toContain(before[0]);
    expect(await ids(added - 1)).toEqual([added]);
  });

  it("runs batch with the documented shape, $result references, halt and the 50 limit", async () => {
    const { AUTH_ID } = await f.frame();
    const r = await f.rest(
      "batch",
      {
        halt: 0,
        cmd: {
          get_user: "user.current",
          deal: "crm.deal.get?id=5",
          contact: "crm.contact.get?id=$result[deal][CONTACT_ID]",
          bad: "nope.method",
        },
      },
      AUTH_ID!,
    );
    const inner = r.body.result as Record<string, Record<string, unknown>>;
    expect(Object.keys(inner).sort()).toEqual(Object.keys(fixture("batch/response.success.docs.json").result).sort());
    expect(inner.result!.contact).toMatchObject({
      ID: String((inner.result!.deal as { CONTACT_ID: string }).CONTACT_ID),
    });
    expect(inner.result_error!.bad).toMatchObject({ error: "ERROR_METHOD_NOT_FOUND" });
    const halted = await f.rest("batch", { halt: 1, cmd: { a: "nope.x", b: "user.current" } }, AUTH_ID!);
    expect((halted.body.result as Record<string, unknown>).result).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`c${i}`, "user.current"]));
    const tooMany = await f.rest("batch", { cmd: many }, AUTH_ID!);
    expect((tooMany.body.result as { result_error: Record<string, { error: string }> }).result_error.c50?.error).toBe(
      "ERROR_BATCH_LENGTH_EXCEEDED",
    );
  });

  it("answers REST v3 at /rest/api with the v3 shape, and CORS preflight", async () => {
    const { AUTH_ID } = await f.frame();
    const res = await fetch(`${f.portal.baseUrl}/rest/api/crm.deal.get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: 1, auth: AUTH_ID }),
    });
    expect(((await res.json()) as { result: { item: { ID: string } } }).result.item.ID).toBe("1");
    const pre = await fetch(`${f.portal.baseUrl}/rest/user.current`, { method: "OPTIONS" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("accepts incoming-webhook URLs and refuses app-only methods through them", async () => {
    const state = (await f.control("state", {}, "GET")) as { webhookUrl: string };
    const ok = await fetch(`${state.webhookUrl}user.current.json`);
    expect(ok.status).toBe(200);
    const denied = await fetch(`${state.webhookUrl}event.get`, { method: "POST" });
    expect(((await denied.json()) as { error: string }).error).toBe("WRONG_AUTH_TYPE");
    expect(keyPaths({ a: { b: 1 } })).toEqual(["a.b"]);
  });
});
