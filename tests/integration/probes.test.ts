import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { POST as events } from "@/app/api/bitrix/events/route";
import { POST as frameRoute } from "@/app/api/auth/frame/route";
import { loadAdminOverview } from "@/lib/admin/overview";
import { LIMITS } from "@/lib/auth/verify-limit";
import { getDb } from "@/lib/db";
import { MAX_PAUSED_WAIT_MS, processInboxBatch } from "@/lib/events/inbox";
import { RETENTION_MS } from "@/lib/metrics/auth-failures";
import { flushMetrics } from "@/lib/metrics/bump";
import { startAppWithFake } from "../support/lifecycle-env";

// Cheap probes by someone who knows (or guesses) a customer's member_id: forged events must not grow a table per
// request or tell a customer's member_id from an unknown one, made-up frame tokens must not each cost the customer's
// portal a REST call, and nothing the app queued for a portal that left may wait forever.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId = "";
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [0, 1]) await env.control("install", { mode: "ui", finish: true }, i);
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
});
afterAll(() => env.stop());
afterEach(() => vi.useRealTimers());

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const forged = (memberId: string) =>
  new Request("http://app/api/bitrix/events", {
    method: "POST",
    headers: FORM,
    body:
      `event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=1&ts=1&auth%5Bmember_id%5D=${memberId}` +
      `&auth%5Bapplication_token%5D=${randomBytes(16).toString("hex")}`,
  });
const failures = () => getDb().authFailure.findMany({ where: { portalId } });

describe("forged events", () => {
  it("a flood of 1 500 with a customer's member_id adds counts, not rows", async () => {
    const before = await failures();
    for (let batch = 0; batch < 15; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => events(forged(env.portal().memberId))));
      expect(answers.map((r) => r.status)).toEqual(Array(100).fill(401));
    }
    await flushMetrics();
    const after = await failures();
    const sum = (rows: typeof after) => rows.reduce((n, r) => n + r.count, 0);
    expect(sum(after) - sum(before)).toBe(1_500);
    expect(after.length - before.length).toBeLessThanOrEqual(2); // one row a minute (the run may cross a minute)
    expect(after.every((r) => r.reason === "application_token_mismatch" && r.route === "events")).toBe(true);
    // The admin page's chart of the last hour still shows every refusal.
    const chart = (await loadAdminOverview(portalId)).authFailures;
    expect(chart.reduce((n, v) => n + v, 0)).toBe(sum(after));
  });

  it("answers a customer's member_id and an unknown one the same", async () => {
    const known = await events(forged(env.portal().memberId));
    const unknown = await events(forged(randomBytes(16).toString("hex")));
    expect([known.status, await known.text()]).toEqual([unknown.status, await unknown.text()]);
    expect(known.status).toBe(401);
  });

  it("old counts are pruned when a refusal is recorded", async () => {
    const old = new Date(Date.now() - RETENTION_MS - 60_000);
    old.setUTCSeconds(0, 0);
    const data = { portalId, reason: "application_token_mismatch", route: "events", minute: old };
    await getDb().authFailure.create({ data });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 3600_000); // the hourly prune is due
    expect((await events(forged(env.portal().memberId))).status).toBe(401);
    await flushMetrics();
    const rows = await failures();
    expect(rows.some((r) => r.minute.getTime() === old.getTime())).toBe(false);
    expect(rows.length).toBeGreaterThan(0); // recent counts stay
  });
});

describe("frame verification", () => {
  const renew = (body: Record<string, unknown>, client: string) =>
    frameRoute(
      new Request("http://app/api/auth/frame", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `198.51.100.9, ${client}` },
        body: JSON.stringify(body),
      }),
    );
  // Calls the portal served: one turned away for its rate limit (503, retried once the budget allows) did no work.
  const portalCalls = (i = 0) => env.state(i).log.filter((e) => e.path.startsWith("/rest/") && e.status !== 503).length;
  const madeUp = (i = 0) => ({ AUTH_ID: randomBytes(16).toString("hex"), member_id: env.portal(i).memberId });

  it("20 made-up AUTH_IDs from one client cost the portal a few calls; then 429 without a call", async () => {
    const calls = portalCalls();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await renew(madeUp(), "203.0.113.7")).status);
    expect(statuses).toEqual([...Array(LIMITS.maxFailures).fill(401), ...Array(20 - LIMITS.maxFailures).fill(429)]);
    expect(portalCalls() - calls).toBe(LIMITS.maxFailures);
    // Another client of the same portal, and the same client on another portal, are not affected.
    const f = (await env.control("frame-auth", { userId: 1 })) as Record<string, string>;
    expect((await renew({ AUTH_ID: f.AUTH_ID, member_id: f.member_id }, "203.0.113.8")).status).toBe(200);
    expect((await renew(madeUp(1), "203.0.113.7")).status).toBe(401);
  });

  it("a burst of 40 at once cannot all start before the first failures come back", async () => {
    const calls = portalCalls();
    const answers = await Promise.all(Array.from({ length: 40 }, () => renew(madeUp(), "203.0.113.9")));
    expect(answers.filter((r) => r.status === 401).length).toBeLessThanOrEqual(LIMITS.maxInFlight);
    expect(answers.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(40 - LIMITS.maxInFlight);
    expect(portalCalls() - calls).toBeLessThanOrEqual(LIMITS.maxInFlight);
  });

  it("a success forgives the client's failures (an office behind one address is not locked out)", async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < LIMITS.maxFailures - 1; i++) expect((await renew(madeUp(), "203.0.113.10")).status).toBe(401);
      const f = (await env.control("frame-auth", { userId: 1 })) as Record<string, string>;
      expect((await renew({ AUTH_ID: f.AUTH_ID, member_id: f.member_id }, "203.0.113.10")).status).toBe(200);
    }
  });
});

describe("nothing waits forever in the inbox", () => {
  it("events of a portal uninstalled without CLEAN settle as dead instead of waiting", async () => {
    const id = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(1).memberId } })).id;
    const token = env.state(1).app.applicationToken;
    for (const deal of [1, 2]) {
      const body =
        `event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=${deal}&ts=${deal}` +
        `&auth%5Bmember_id%5D=${env.portal(1).memberId}&auth%5Bapplication_token%5D=${token}`;
      const res = await events(new Request("http://app/api/bitrix/events", { method: "POST", body, headers: FORM }));
      expect(await res.json()).toEqual({ status: "queued" });
    }
    const pending = () => getDb().eventInbox.count({ where: { portalId: id, status: "pending" } });
    expect(await pending()).toBe(2);
    await env.control("uninstall", { clean: false }, 1);
    expect(await getDb().portal.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "uninstalled" });
    await getDb().eventInbox.updateMany({ where: { portalId: id }, data: { nextAttemptAt: new Date(0) } });
    while (await processInboxBatch("probes-test"));
    expect(await pending()).toBe(0);
    const rows = await getDb().eventInbox.findMany({ where: { portalId: id } });
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.status === "dead" && r.lastError === "portal uninstalled")).toBe(true);
  });

  it("events of a paused portal wait without spending attempts, and settle once they are too old", async () => {
    await getDb().portal.update({ where: { id: portalId }, data: { status: "payment_required" } });
    try {
      const row = (received: Date) => ({
        portalId,
        event: "ONCRMDEALUPDATE",
        payload: { data: { FIELDS: { ID: "1" } } },
        idempotencyKey: randomBytes(8).toString("hex"),
        receivedAt: received,
        nextAttemptAt: new Date(0),
      });
      const fresh = await getDb().eventInbox.create({ data: row(new Date()) });
      const stale = await getDb().eventInbox.create({ data: row(new Date(Date.now() - MAX_PAUSED_WAIT_MS - 60_000)) });
      while (await processInboxBatch("probes-test"));
      const status = (id: bigint) => getDb().eventInbox.findUniqueOrThrow({ where: { id } });
      expect(await status(fresh.id)).toMatchObject({ status: "pending", attempts: 0 });
      expect(await status(stale.id)).toMatchObject({ status: "dead" });
    } finally {
      await getDb().portal.update({ where: { id: portalId }, data: { status: "active" } });
    }
  });
});
