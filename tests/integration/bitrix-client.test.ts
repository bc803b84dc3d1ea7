import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bitrixFor, BitrixError } from "@/lib/bitrix";
import { limitPolicy } from "@/lib/bitrix/limits";
import { runInLane } from "@/lib/bitrix/call-lane";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import * as lifecycle from "../fake-portal/lifecycle";
import { startFakeBitrix, type RunningFake } from "../fake-portal/index";
import type { PortalState, ScriptedAnswer } from "../fake-portal/types";
import { createInstalledPortal } from "../support/portal-fixture";

// The one client against the fake Bitrix24 (portal + OAuth server); everything is counted on the server side.
const ROOT = path.resolve(import.meta.dirname, "../..");
let fake: RunningFake;
let p: PortalState;

beforeAll(async () => {
  fake = await startFakeBitrix({
    app: {
      clientId: process.env.BITRIX_CLIENT_ID!,
      clientSecret: process.env.BITRIX_CLIENT_SECRET!,
      appUrl: "http://127.0.0.1:9",
    },
    seed: { deals: 10_000 },
  });
  p = fake.fake.portals[0]!;
  Object.assign(p.app, { installed: true, finished: true });
  process.env.BITRIX_OAUTH_URL = fake.oauthUrl;
  process.env.BITRIX_OAUTH_ALLOWED = fake.oauthUrl;
  resetEnvForTests();
});
afterAll(() => fake.stop());
beforeEach(() => {
  p.faults.script.length = 0;
  Object.assign(p.app, { disabled: false, paymentExpired: false });
  Object.assign(p.bucket, { burst: 50, drain: 2, level: 0, at: Date.now() });
  limitPolicy.baseMs = 1000;
});

const bucket = (burst: number, drain: number) => Object.assign(p.bucket, { burst, drain, level: 0, at: Date.now() });
const script = (...answers: ScriptedAnswer[]) => p.faults.script.push(...answers);
const expireAll = () => {
  for (const t of fake.fake.tokens.values()) if (t.portal === p) t.expiresAtMs = 0;
};
/** The fake's request log position: requests are told apart by their sequence number, not by a clock reading. */
const mark = () => p.counters.logSeq;
const callsSince = (from: number, method: string) => p.log.filter((e) => e.n > from && e.rest === method);

async function portalFor(o: { burst?: number; drain?: number; serverEndpoint?: string } = {}) {
  const a = lifecycle.frameAuth(fake.fake, p, 1);
  return createInstalledPortal({
    endpoint: p.baseUrl,
    tokens: {
      access_token: a.form.AUTH_ID,
      refresh_token: a.form.REFRESH_ID,
      expires: Math.floor(Date.now() / 1000) + 3600,
      scope: "crm",
    },
    serverEndpoint: `${fake.oauthUrl}/rest/`,
    ...o,
  });
}

/** One child process (tests/support/bitrix-child.ts): `ready` once its client is built, its stdout when it exits. */
function child(portalId: string, each: number, method: string) {
  const args = ["--conditions=react-server", "tests/support/bitrix-child.ts", portalId, String(each), method];
  const proc = spawn(path.join(ROOT, "node_modules/.bin/tsx"), args, {
    cwd: ROOT,
    env: process.env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  const exited = once(proc, "exit").then(([code]) => ({ code: code as number | null, out }));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`child exited (${code}) before it was ready: ${out}`)));
  });
  return { ready, exited, go: () => proc.stdin.end("go\n") };
}

/** `processes` children of `each` calls, released together once all are ready: a barrier, not a start-up race. */
async function children(portalId: string, processes: number, each: number, method: string) {
  const kids = Array.from({ length: processes }, () => child(portalId, each, method));
  await Promise.all(kids.map((k) => k.ready));
  for (const k of kids) k.go();
  const outs = await Promise.all(kids.map((k) => k.exited));
  return outs.map((o) => JSON.parse(o.out.trim().split("\n").at(-1)!) as { ok: number; failed: string[] });
}

describe("token refresh", () => {
  it("20 concurrent calls from 2 processes on an expired token cause exactly one refresh, and all succeed", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    bucket(500, 100);
    expireAll();
    const before = p.counters.refreshes;
    const results = await children(portal.id, 2, 10, "user.current");
    expect(results.map((r) => r.ok)).toEqual([10, 10]);
    expect(p.counters.refreshes - before).toBe(1);
    const versions = await getDb().tokenSet.findUnique({ where: { portalId: portal.id } });
    expect(versions?.version).toBe(1);
  });

  it("never sends a rotated refresh token again", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    bucket(500, 100);
    const client = await bitrixFor(portal.id);
    const [refreshes, attempts] = [p.counters.refreshes, p.counters.refreshAttempts];
    for (let i = 0; i < 3; i++) {
      expireAll();
      await Promise.all(Array.from({ length: 5 }, () => client.call("user.current")));
    }
    // every refresh token the OAuth server received was still valid: attempts = successful rotations
    expect(p.counters.refreshes - refreshes).toBe(3);
    expect(p.counters.refreshAttempts - attempts).toBe(3);
  });

  it("a terminal OAuth answer stops retries and marks the portal", async () => {
    const portal = await portalFor();
    expireAll();
    p.app.disabled = true; // the app was disabled: the OAuth server answers invalid_grant
    const client = await bitrixFor(portal.id);
    await expect(client.call("user.current")).rejects.toMatchObject({ code: "invalid_grant", kind: "terminal" });
    // invalid_grant cannot tell a disabled app from a refresh answer lost on the way: the portal waits for an admin's
    // frame (which re-arms it) or a reinstall, and no work is tried meanwhile (token-recovery.test.ts).
    expect((await getDb().portal.findUnique({ where: { id: portal.id } }))?.status).toBe("needs_reauth");
    await expect(bitrixFor(portal.id)).rejects.toMatchObject({ kind: "terminal" });
  });

  it("PAYMENT_REQUIRED marks the portal payment_required", async () => {
    const portal = await portalFor();
    script({ status: 402, body: { error: "PAYMENT_REQUIRED", error_description: "Payment required" } });
    await expect((await bitrixFor(portal.id)).call("user.current")).rejects.toMatchObject({ kind: "terminal" });
    expect((await getDb().portal.findUnique({ where: { id: portal.id } }))?.status).toBe("payment_required");
  });

  it("sends the client secret only to an allowed OAuth server", async () => {
    const portal = await portalFor({ serverEndpoint: "https://evil.example/rest/" });
    expireAll();
    const before = p.counters.refreshAttempts;
    await expect((await bitrixFor(portal.id)).call("user.current")).rejects.toMatchObject({
      code: "OAUTH_SERVER_NOT_ALLOWED",
    });
    expect(p.counters.refreshAttempts).toBe(before);
  });
});

describe("rate limits", () => {
  it("4 processes hammering one portal stay within burst + drain, counted by the server", async () => {
    // The 4 processes start their calls together (a barrier in children()), so 32 calls meet a 10-call burst at
    // once, whatever each process's start-up took. A slow drain (2/s): the background lane's 3 spare slots then
    // absorb 1.5 s of scheduling jitter between a slot taken in the database and the request's arrival — the server
    // counts arrivals, and this machine is shared.
    const portal = await portalFor({ burst: 10, drain: 2 });
    bucket(10, 2);
    const from = mark();
    const results = await children(portal.id, 4, 8, "user.current");
    expect(results.every((r) => r.ok === 8)).toBe(true);
    const calls = callsSince(from, "user.current");
    expect(calls.filter((c) => c.status === 503)).toHaveLength(0);
    // every window [t0, t] holds at most burst + drain·(t - t0) requests
    for (const c of calls) {
      const inWindow = calls.filter((x) => x.at >= calls[0]!.at && x.at <= c.at).length;
      expect(inWindow).toBeLessThanOrEqual(10 + 2 * ((c.at - calls[0]!.at) / 1000) + 1);
    }
  });

  it("lets live capture past a portal's backfill: capture draws from a share background work cannot fill", async () => {
    const portal = await portalFor({ burst: 50, drain: 0.01 }); // a slot frees every 100 s: nothing leaks in this test
    const client = await bitrixFor(portal.id);
    await client.call("user.current", {}); // creates the bucket row
    // The background lane is full (44 of 50, lib/bitrix/limits.ts): a backfill's next read waits for a slot.
    await getDb()
      .$executeRaw`UPDATE "RateBucket" SET level = 44, "updatedAt" = clock_timestamp() WHERE "portalId" = ${portal.id}`;
    const stop = new AbortController();
    const backfillRead = client.call("user.current", {}, { lane: "background", signal: stop.signal });
    let backfillDone = false;
    void backfillRead.then(
      () => {
        backfillDone = true;
      },
      () => undefined,
    );
    // A read made in the worker's capture lane (the same code path, the caller's lane from its context) goes through.
    await expect(
      runInLane("capture", () => client.call("user.current", {}, { lane: "background" })),
    ).resolves.toBeDefined();
    expect(backfillDone).toBe(false);
    stop.abort();
    await expect(backfillRead).rejects.toThrow();
  });

  it("retries QUERY_LIMIT_EXCEEDED with growing delays, then gives up with a clear error", async () => {
    limitPolicy.baseMs = 100;
    // A fast-draining bucket, so the gaps measure our backoff rather than the wait for the bucket to drain.
    const portal = await portalFor({ burst: 500, drain: 10_000 });
    bucket(500, 10_000);
    const limit = { status: 503, body: { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" } };
    script(limit, limit, limit);
    const from = mark();
    await expect((await bitrixFor(portal.id)).call("crm.deal.get", { id: 1 })).resolves.toMatchObject({
      result: { ID: "1" },
    });
    const at = callsSince(from, "crm.deal.get").map((c) => c.at);
    expect(at).toHaveLength(4); // three 503s, then the answer
    // Retry k waits at least half its ceiling, baseMs·2^k / 2 (lib/bitrix/limits.ts): 50, 100, 200 ms. Lower bounds
    // only — a slow machine lengthens a gap, never shortens it (2 ms for clock rounding) — and they grow.
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    gaps.forEach((gap, k) => expect(gap, `gap before retry ${k + 1}`).toBeGreaterThanOrEqual(50 * 2 ** k - 2));
    script(...Array.from({ length: 10 }, () => limit));
    await expect((await bitrixFor(portal.id)).call("crm.deal.get", { id: 1 })).rejects.toThrow(
      /gave up after 6 attempts/,
    );
  });
});

describe("batch and lists", () => {
  it("chunks 120 commands into 3 requests and resolves $result references", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    bucket(500, 100);
    const from = mark();
    const cmds = Object.fromEntries(
      Array.from({ length: 120 }, (_, i) => [
        `d${i}`,
        ["crm.deal.get", { id: i + 1 }] as [string, Record<string, unknown>],
      ]),
    );
    const res = await (await bitrixFor(portal.id)).batch(cmds);
    expect(Object.keys(res.result)).toHaveLength(120);
    expect(callsSince(from, "batch")).toHaveLength(3);
    const linked = await (
      await bitrixFor(portal.id)
    ).batch({
      first: ["crm.deal.get", { id: 7 }],
      second: ["crm.deal.get", { id: "$result[first][ID]" }],
      bad: ["no.such.method", {}],
    });
    expect(linked.result.second).toMatchObject({ ID: "7" });
    expect(linked.errors.bad).toMatchObject({ error: "ERROR_METHOD_NOT_FOUND" });
  });

  it("iterates 10 000 items in 50-item pages with the >ID cursor", async () => {
    const portal = await portalFor({ burst: 1000, drain: 500 });
    bucket(1000, 500);
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
    script("html");
    await expect((await bitrixFor(portal.id)).call("crm.deal.add", {})).rejects.toMatchObject({
      kind: "malformed",
      method: "crm.deal.add",
    });
  });

  it("an unknown JSON shape is a malformed-response error", async () => {
    const portal = await portalFor();
    script({ status: 200, body: { hello: "world" } });
    await expect((await bitrixFor(portal.id)).call("crm.deal.add", {})).rejects.toBeInstanceOf(BitrixError);
  });

  it("does not retry a write after a dropped connection, but retries a read", async () => {
    const portal = await portalFor({ burst: 500, drain: 100 });
    bucket(500, 100);
    const client = await bitrixFor(portal.id);
    let from = mark();
    const deals = p.crm.deal.size;
    script("drop");
    await expect(client.call("crm.deal.add", { fields: { TITLE: "x" } })).rejects.toMatchObject({ kind: "network" });
    expect(callsSince(from, "crm.deal.add")).toHaveLength(1);
    expect(p.crm.deal.size).toBe(deals);
    from = mark();
    script("drop");
    await expect(client.call("crm.deal.get", { id: 3 })).resolves.toMatchObject({ result: { ID: "3" } });
    expect(callsSince(from, "crm.deal.get")).toHaveLength(2);
  });
});
