import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bitrixFor, BitrixError, bitrixForWebhook, redactWebhook } from "@/lib/bitrix";
import { limitPolicy } from "@/lib/bitrix/limits";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { startStandin } from "../support/bitrix-standin";
import { createInstalledPortal } from "../support/portal-fixture";

const run = promisify(execFile);
let standin: Awaited<ReturnType<typeof startStandin>>;

beforeAll(async () => {
  standin = await startStandin({ clientId: process.env.BITRIX_CLIENT_ID!, clientSecret: process.env.BITRIX_CLIENT_SECRET!, items: 10_000 });
  process.env.BITRIX_OAUTH_URL = standin.url;
  process.env.BITRIX_OAUTH_ALLOWED = standin.url;
  resetEnvForTests();
});
afterAll(() => standin.stop());
beforeEach(() => {
  standin.state.forced.length = 0;
  standin.state.oauthError = null;
  Object.assign(standin.state.bucket, { burst: 50, drain: 2, level: 0, at: Date.now() });
  limitPolicy.baseMs = 1000;
});

const portalFor = (o: { burst?: number; drain?: number; serverEndpoint?: string } = {}) =>
  createInstalledPortal({ endpoint: standin.url, tokens: standin.issue(), ...o });

async function children(portalId: string, processes: number, each: number, method: string) {
  const outs = await Promise.all(Array.from({ length: processes }, () =>
    run("npx", ["tsx", "--conditions=react-server", "tests/support/bitrix-child.ts", portalId, String(each), method], { env: process.env, timeout: 120_000 })));
  return outs.map((o) => JSON.parse(o.stdout.trim().split("\n").at(-1)!) as { ok: number; failed: string[] });
}

describe("token refresh", () => {
  it("20 concurrent calls from 2 processes on an expired token cause exactly one refresh, and all succeed", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    Object.assign(standin.state.bucket, { burst: 500, drain: 100 });
    standin.expireAll();
    const before = standin.state.refreshes;
    const results = await children(portal.id, 2, 10, "user.current");
    expect(results.map((r) => r.ok)).toEqual([10, 10]);
    expect(standin.state.refreshes - before).toBe(1);
    const versions = await getDb().tokenSet.findUnique({ where: { portalId: portal.id } });
    expect(versions?.version).toBe(1);
  });

  it("never sends a rotated refresh token again", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    Object.assign(standin.state.bucket, { burst: 500, drain: 100 });
    const client = await bitrixFor(portal.id);
    for (let i = 0; i < 3; i++) {
      standin.expireAll();
      await Promise.all(Array.from({ length: 5 }, () => client.call("user.current")));
    }
    const sent = standin.state.usedRefreshTokens;
    expect(new Set(sent).size).toBe(sent.length);
  });

  it("a terminal OAuth answer stops retries and marks the portal", async () => {
    const portal = await portalFor();
    standin.expireAll();
    standin.state.oauthError = { status: 400, error: "invalid_grant", error_description: "Invalid grant" };
    const client = await bitrixFor(portal.id);
    await expect(client.call("user.current")).rejects.toMatchObject({ code: "invalid_grant", kind: "terminal" });
    expect((await getDb().portal.findUnique({ where: { id: portal.id } }))?.status).toBe("disabled");
    await expect(bitrixFor(portal.id)).rejects.toMatchObject({ kind: "terminal" });
  });

  it("PAYMENT_REQUIRED marks the portal payment_required", async () => {
    const portal = await portalFor();
    standin.state.forced.push({ status: 402, body: { error: "PAYMENT_REQUIRED", error_description: "Payment required" } });
    await expect((await bitrixFor(portal.id)).call("user.current")).rejects.toMatchObject({ kind: "terminal" });
    expect((await getDb().portal.findUnique({ where: { id: portal.id } }))?.status).toBe("payment_required");
  });

  it("sends the client secret only to an allowed OAuth server", async () => {
    const portal = await portalFor({ serverEndpoint: "https://evil.example/rest/" });
    standin.expireAll();
    const before = standin.state.usedRefreshTokens.length;
    await expect((await bitrixFor(portal.id)).call("user.current")).rejects.toMatchObject({ code: "OAUTH_SERVER_NOT_ALLOWED" });
    expect(standin.state.usedRefreshTokens.length).toBe(before);
  });
});

describe("rate limits", () => {
  it("4 processes hammering one portal stay within burst + drain, counted by the server", async () => {
    const portal = await portalFor({ burst: 10, drain: 5 });
    Object.assign(standin.state.bucket, { burst: 10, drain: 5, level: 0, at: Date.now() });
    const from = Date.now();
    const results = await children(portal.id, 4, 12, "crm.deal.get");
    expect(results.every((r) => r.ok === 12)).toBe(true);
    const calls = standin.state.calls.filter((c) => c.at >= from && c.method === "crm.deal.get");
    expect(calls.filter((c) => c.status === 503)).toHaveLength(0);
    // every window [t0, t] holds at most burst + drain·(t - t0) requests
    for (const c of calls) {
      const inWindow = calls.filter((x) => x.at >= calls[0]!.at && x.at <= c.at).length;
      expect(inWindow).toBeLessThanOrEqual(10 + 5 * ((c.at - calls[0]!.at) / 1000) + 1);
    }
  });

  it("retries QUERY_LIMIT_EXCEEDED with growing delays, then gives up with a clear error", async () => {
    limitPolicy.baseMs = 100;
    // A fast-draining bucket, so the gaps measure our backoff rather than the wait for the bucket to drain.
    const portal = await portalFor({ burst: 500, drain: 10_000 });
    Object.assign(standin.state.bucket, { burst: 500, drain: 10_000 });
    const limit = { status: 503, body: { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" } };
    standin.state.forced.push(limit, limit, limit);
    const from = Date.now();
    await expect((await bitrixFor(portal.id)).call("crm.deal.get", { id: 1 })).resolves.toMatchObject({ result: { ID: "1" } });
    const at = standin.state.calls.filter((c) => c.at >= from).map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]! * 0.9);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    standin.state.forced.push(...Array.from({ length: 10 }, () => limit));
    await expect((await bitrixFor(portal.id)).call("crm.deal.get", { id: 1 })).rejects.toThrow(/gave up after 6 attempts/);
  });
});

describe("batch and lists", () => {
  it("chunks 120 commands into 3 requests and resolves $result references", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    Object.assign(standin.state.bucket, { burst: 500, drain: 100 });
    const from = Date.now();
    const cmds = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`d${i}`, ["crm.deal.get", { id: i + 1 }] as [string, Record<string, unknown>]]));
    const res = await (await bitrixFor(portal.id)).batch(cmds);
    expect(Object.keys(res.result)).toHaveLength(120);
    expect(standin.state.calls.filter((c) => c.at >= from && c.method === "batch")).toHaveLength(3);
    const linked = await (await bitrixFor(portal.id)).batch({ first: ["crm.deal.get", { id: 7 }], second: ["crm.deal.get", { id: "$result[first][ID]" }], bad: ["no.such.method", {}] });
    expect(linked.result.second).toMatchObject({ ID: "7" });
    expect(linked.errors.bad).toMatchObject({ error: "ERROR_METHOD_NOT_FOUND" });
  });

  it("iterates 10 000 items in 50-item pages with the >ID cursor", async () => {
    const portal = await portalFor({ burst: 1000, drain: 500 });
    Object.assign(standin.state.bucket, { burst: 1000, drain: 500 });
    const pages: number[] = [];
    const ids = new Set<string>();
    for await (const page of (await bitrixFor(portal.id)).list<{ ID: string }>("crm.deal.list", { select: ["ID"] })) {
      pages.push(page.length);
      page.forEach((d) => ids.add(d.ID));
    }
    expect(ids.size).toBe(10_000);
    expect(pages).toHaveLength(200);
    expect(pages.every((n) => n === 50)).toBe(true);
  });
});

describe("failures become clear errors", () => {
  it("an HTML page is a malformed-response error naming the method", async () => {
    const portal = await portalFor();
    standin.state.forced.push("html");
    await expect((await bitrixFor(portal.id)).call("crm.deal.add", {})).rejects.toMatchObject({ kind: "malformed", method: "crm.deal.add" });
  });

  it("an unknown JSON shape is a malformed-response error", async () => {
    const portal = await portalFor();
    standin.state.forced.push({ status: 200, body: { hello: "world" } });
    await expect((await bitrixFor(portal.id)).call("crm.deal.add", {})).rejects.toBeInstanceOf(BitrixError);
  });

  it("does not retry a write after a dropped connection, but retries a read", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    Object.assign(standin.state.bucket, { burst: 500, drain: 100 });
    const client = await bitrixFor(portal.id);
    let from = Date.now();
    standin.state.forced.push("drop");
    await expect(client.call("crm.deal.add", { fields: { TITLE: "x" } })).rejects.toMatchObject({ kind: "network" });
    expect(standin.state.calls.filter((c) => c.at >= from && c.method === "crm.deal.add")).toHaveLength(1);
    from = Date.now();
    standin.state.forced.push("drop");
    await expect(client.call("crm.deal.get", { id: 3 })).resolves.toMatchObject({ result: { ID: "3" } });
    expect(standin.state.calls.filter((c) => c.at >= from && c.method === "crm.deal.get")).toHaveLength(2);
  });

  it("keeps the webhook secret out of every message", () => {
    const url = "http://127.0.0.1:9/rest/1/8g9l071eismy9q2l/";
    expect(redactWebhook(url)).not.toContain("8g9l071eismy9q2l");
    expect(bitrixForWebhook(url).portal.clientEndpoint).not.toContain("8g9l071eismy9q2l");
    expect(() => bitrixForWebhook("http://127.0.0.1:9/rest/abc")).toThrow(/expected https/);
  });
});
