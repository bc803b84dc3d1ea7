import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch, MAX_ATTEMPTS } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { flushMetrics } from "@/lib/metrics/bump";
import { bitrixFor } from "@/lib/bitrix";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import * as capture from "@/lib/history/capture";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
});
afterAll(() => env.stop());
beforeEach(() => vi.restoreAllMocks());

const post = (body: string) =>
  fetch(`${env.app.url}/api/bitrix/events`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
const crmEvent = (token: string, id: number, ts = 1736405807, member = env.portal().memberId) =>
  `event=ONCRMDEALUPDATE&event_handler_id=201&data%5BFIELDS%5D%5BID%5D=${id}&ts=${ts}&auth%5Bdomain%5D=x&auth%5Bmember_id%5D=${member}&auth%5Bapplication_token%5D=${token}`;
const appToken = () => env.state().app.applicationToken;

describe("online events", () => {
  it("verifies application_token: wrong or missing ⇒ 401 with no side effect, counted", async () => {
    const inboxBefore = await getDb().eventInbox.count();
    expect((await post(crmEvent("0".repeat(32), 1))).status).toBe(401);
    expect((await post(crmEvent(appToken(), 1, 1, "9".repeat(32)))).status).toBe(401);
    expect((await post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=1&auth%5Bmember_id%5D=x")).status).toBe(400);
    expect(await getDb().eventInbox.count()).toBe(inboxBefore);
    expect(
      await getDb().authFailure.count({ where: { portalId, reason: "application_token_mismatch" } }),
    ).toBeGreaterThanOrEqual(1);
    await flushMetrics();
    expect(
      (await getDb().globalCounter.findUnique({ where: { name: "auth_failures_unknown_portal" } }))?.value,
    ).toBeGreaterThanOrEqual(1n);
  });

  it("a duplicated delivery has one effect", async () => {
    const body = crmEvent(appToken(), 5, 1800000001);
    const answers = await Promise.all([post(body), post(body), post(body)].map((p) => p.then((r) => r.json())));
    expect(answers.map((a) => (a as { status: string }).status).sort()).toEqual(["duplicate", "duplicate", "queued"]);
    expect(
      await getDb().eventInbox.count({ where: { portalId, payload: { path: ["ts"], equals: "1800000001" } } }),
    ).toBe(1);
  });

  it("processes the inbox with retries and dead-letters after the last attempt", async () => {
    const spy = vi.spyOn(capture, "captureRecords").mockRejectedValue(new Error("boom"));
    await post(crmEvent(appToken(), 6, 1800000002));
    const row = await getDb().eventInbox.findFirstOrThrow({
      where: { portalId, payload: { path: ["ts"], equals: "1800000002" } },
    });
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await getDb().eventInbox.update({ where: { id: row.id }, data: { nextAttemptAt: new Date(0) } });
      await processInboxBatch("test", 50);
    }
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      status: "dead",
      attempts: MAX_ATTEMPTS,
      lastError: "boom",
    });
    expect(spy).toHaveBeenCalledWith(portalId, "deal", [6], expect.anything());
  });
});

describe("offline events", () => {
  it("drains with clear=0 → persist → clear, and a crash between get and clear loses nothing", async () => {
    for (const id of [1, 2, 3]) await env.control(`crm/deal/${id}`, { fields: { TITLE: `offline ${id}` }, userId: 2 });
    // A worker reserves a batch and dies before clearing it.
    const client = await bitrixFor(portalId);
    const reserved = await client.call<{ process_id: string; events: unknown[] }>("event.offline.get", {
      clear: 0,
      limit: 2,
      auth_connector: AUTH_CONNECTOR,
    });
    await getDb().offlineClaim.create({ data: { portalId, processId: reserved.result.process_id, eventCount: 2 } });
    const report = await drainOffline(portalId);
    expect(report.resumed).toBe(1);
    expect(env.state().offline.filter((x) => x.connector === AUTH_CONNECTOR)).toHaveLength(0);
    expect(await getDb().eventInbox.count({ where: { portalId, source: "offline" } })).toBe(3);
    expect(await getDb().offlineClaim.count({ where: { portalId, status: "claimed" } })).toBe(0);
  });

  it("several workers drain one portal at once without overlap", async () => {
    for (let id = 13; id <= 24; id++) await env.control(`crm/deal/${id}`, { fields: { TITLE: `parallel ${id}` } });
    const before = await getDb().eventInbox.count({ where: { portalId, source: "offline" } });
    const reports = await Promise.all([
      drainOffline(portalId, 1),
      drainOffline(portalId, 1),
      drainOffline(portalId, 1),
    ]);
    const taken = reports.reduce((s, r) => s + r.events, 0);
    const leftover = await drainOffline(portalId);
    expect(taken + leftover.events).toBe(12); // every event reserved by exactly one worker
    expect((await getDb().eventInbox.count({ where: { portalId, source: "offline" } })) - before).toBe(12);
    expect(env.state().offline.filter((x) => x.connector === AUTH_CONNECTOR)).toHaveLength(0);
  });

  it("our own write with auth_connector raises no offline event", async () => {
    const client = await bitrixFor(portalId);
    await client.call("crm.deal.update", { id: 4, fields: { TITLE: "ours" } }, { authConnector: AUTH_CONNECTOR });
    expect((await drainOffline(portalId)).events).toBe(0);
  });

  it("ONOFFLINEEVENT triggers a drain (hybrid trigger): one waiting drain per burst, another after a running one", async () => {
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
    await env.control("clock", { advance: 10 }); // past the binding's minTimeout since the last notification
    await env.control("crm/deal/7", { fields: { TITLE: "notify" } });
    await waitUntil(async () => (await getDb().job.count({ where: { portalId, kind: "offline.drain" } })) > 0);
    // the drain due now; each notification also queues its look after the quiet window (the next test)
    const dueNow = () =>
      getDb().job.count({
        where: { portalId, kind: "offline.drain", status: "pending", runAt: { lte: new Date(Date.now() + 1000) } },
      });
    const notify = `event=ONOFFLINEEVENT&event_handler_id=9&ts=1&auth%5Bdomain%5D=x&auth%5Bmember_id%5D=${env.portal().memberId}&auth%5Bapplication_token%5D=${appToken()}`;
    for (let i = 0; i < 3; i++) expect((await post(notify)).status).toBe(200);
    expect(await dueNow()).toBe(1); // a burst: one drain
    expect(await getDb().job.count({ where: { portalId, kind: "offline.drain" } })).toBe(2); // and one look
    await getDb().job.updateMany({ where: { portalId, kind: "offline.drain" }, data: { status: "running" } }); // it started
    expect((await post(notify)).status).toBe(200); // events that arrived during that drain get a drain of their own
    expect(await dueNow()).toBe(1);
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
  });

  it("stops at a batch short of the limit: a trickle does not spend the request budget on empty reads", async () => {
    await drainOffline(portalId);
    await env.control("crm/deal/9", { fields: { TITLE: "trickle" } });
    await env.control("reset-counters");
    expect((await drainOffline(portalId)).events).toBe(1);
    expect(env.state().counters.rest["event.offline.get"]).toBe(1); // not a second read that finds nothing
  });

  it("a notification also looks again after its quiet window: events of the window bring no notification", async () => {
    await drainOffline(portalId); // what earlier tests left in the queue
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
    await env.control("clock", { advance: 10 }); // past the binding's minTimeout since the last notification
    // A look is due 5 s after the notification that queued it: at least 4 s after `from`, taken before it (so a slow
    // machine between the notification and this count cannot make it look due "at once").
    const from = Date.now();
    const looks = () =>
      getDb().job.count({
        where: { portalId, kind: "offline.drain", status: "pending", runAt: { gt: new Date(from + 4000) } },
      });
    await env.control("crm/deal/8", { fields: { TITLE: "notified" } }); // the fake notifies the app
    await waitUntil(async () => (await looks()) > 0);
    expect((await drainOffline(portalId)).events).toBe(1); // the drain due now takes the notified edit
    // an edit inside the window: the fake sends no notification (core checkSendTime), the look is what reads it
    await env.control("crm/deal/8", { fields: { TITLE: "inside the quiet window" } });
    expect(await looks()).toBe(1);
    const [look] = await getDb().job.findMany({
      where: { portalId, kind: "offline.drain", status: "pending", runAt: { gt: new Date(from + 4000) } },
    });
    expect(look!.runAt.getTime()).toBeLessThanOrEqual(Date.now() + 5000);
    expect((await drainOffline(portalId)).events).toBe(1); // what the look will read
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
  });

  it("a drain waiting to start inside the window does not stand in for the notification's look", async () => {
    await drainOffline(portalId);
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
    // the schedule's next run of this portal, queued ahead at its phase of the minute: due a second from now — it would
    // run before an edit of the window and find nothing (the CI e2e run of 2026-12-02: that edit waited 60 s)
    await getDb().job.create({ data: { kind: "offline.drain", portalId, runAt: new Date(Date.now() + 1000) } });
    const from = Date.now();
    const looks = () =>
      getDb().job.count({
        where: { portalId, kind: "offline.drain", status: "pending", runAt: { gt: new Date(from + 4000) } },
      });
    const notify = `event=ONOFFLINEEVENT&event_handler_id=9&ts=2&auth%5Bdomain%5D=x&auth%5Bmember_id%5D=${env.portal().memberId}&auth%5Bapplication_token%5D=${appToken()}`;
    expect((await post(notify)).status).toBe(200);
    expect(await looks()).toBe(1);
    // the same notification delivered again adds no second look
    expect((await post(notify)).status).toBe(200);
    expect(await looks()).toBe(1);
    await getDb().job.deleteMany({ where: { portalId, kind: "offline.drain" } });
  });
});

describe("ONAPPUPDATE with no user behind it", () => {
  it("is verified by application_token and binds everything again with the stored tokens", async () => {
    const answers = (await env.control("update", { version: 2, userId: null })) as unknown as {
      status: number;
      text: string;
    }[];
    expect(answers.map((a) => [a.status, JSON.parse(a.text)])).toEqual([[200, { status: "updated" }]]);
    const bound = env.state().bindings.map((b) => b.event);
    expect(bound).toEqual(expect.arrayContaining(["ONCRMDEALUPDATE", "ONAPPUPDATE", "ONAPPUNINSTALL"]));
    const audits = await getDb().auditLog.findMany({
      where: { portalId, action: { in: ["update.started", "update.finished"] } },
    });
    expect(audits.map((a) => a.action).sort()).toEqual(["update.finished", "update.started"]);
  });

  it("refuses one the portal does not confirm: a version that is not installed, or a wrong token", async () => {
    const body = (token: string, version: string) =>
      `event=ONAPPUPDATE&data%5BVERSION%5D=${version}&data%5BPREVIOUS_VERSION%5D=1&ts=1` +
      `&auth%5Bmember_id%5D=${env.portal().memberId}&auth%5Bapplication_token%5D=${token}`;
    const before = await getDb().auditLog.count({ where: { portalId, action: "update.started" } });
    expect((await post(body(appToken(), "7"))).status).toBe(401);
    expect((await post(body("0".repeat(32), "2"))).status).toBe(401);
    // A repeat of the real one (same version) does not run the update again.
    expect((await post(body(appToken(), "2"))).status).toBe(200);
    expect(await getDb().auditLog.count({ where: { portalId, action: "update.started" } })).toBe(before);
  });
});

describe("a portal that changes its address", () => {
  const row = () => getDb().portal.findUniqueOrThrow({ where: { id: portalId } });
  const first = () => new URL(env.portal().clientEndpoint).host; // the address the fake started with
  afterEach(async () => {
    await env.control("move", { host: first() });
    await (await bitrixFor(portalId)).call("crm.deal.get", { id: 1 }); // the app follows it back
    expect((await row()).clientEndpoint).toBe(env.portal().clientEndpoint);
  });

  it("takes the new address from the OAuth server's refresh answer, never from an event body", async () => {
    const old = (await row()).clientEndpoint;
    const moved = (await env.control("move")) as { clientEndpoint: string; domain: string };
    try {
      expect(moved.clientEndpoint).not.toBe(old);
      // An event names the new address in auth[client_endpoint]: an unverified body, so nothing changes.
      const named = `${crmEvent(appToken(), 3, 1800000100)}&auth%5Bclient_endpoint%5D=${encodeURIComponent(moved.clientEndpoint)}`;
      expect((await post(named)).status).toBe(200);
      expect((await row()).clientEndpoint).toBe(old);

      // The old address answers 302; the refresh that follows names the new one, which is stored and used.
      await env.control("reset-counters");
      const deal = await (await bitrixFor(portalId)).call<{ ID: string }>("crm.deal.get", { id: 1 });
      expect(deal.result.ID).toBe("1");
      expect(await row()).toMatchObject({ clientEndpoint: moved.clientEndpoint, domain: moved.domain });
      expect(env.state().counters.refreshes).toBe(1);
      // Later calls go straight to the new address: no redirect, no refresh.
      await env.control("reset-counters");
      await (await bitrixFor(portalId)).call("crm.deal.get", { id: 2 });
      expect(env.state().log.map((e) => e.status)).toEqual([200]);
      expect(env.state().counters.refreshes).toBe(0);
    } finally {
      await env.control("reset-counters");
    }
  });

  it("stores the address of every refresh, also one ahead of expiry", async () => {
    const moved = (await env.control("move")) as { clientEndpoint: string };
    await getDb().tokenSet.update({ where: { portalId }, data: { expiresAt: new Date(0) } });
    await env.control("reset-counters");
    await (await bitrixFor(portalId)).call("crm.deal.get", { id: 1 });
    expect((await row()).clientEndpoint).toBe(moved.clientEndpoint);
    expect(env.state().log.map((e) => e.status)).toEqual([200]); // refreshed first: no trip to the old address
  });
});

describe("terminal states", () => {
  it("PAYMENT_REQUIRED stops work for the portal, and probing resumes it when the portal pays", async () => {
    const { probePortal } = await import("@/lib/lifecycle/probe-portal");
    await env.control("plan", { paymentExpired: true });
    await expect((await bitrixFor(portalId)).call("user.current")).rejects.toMatchObject({ kind: "terminal" });
    expect((await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).status).toBe("payment_required");
    await expect(bitrixFor(portalId)).rejects.toMatchObject({ kind: "terminal" }); // no retry storm: no calls at all
    await env.control("plan", { paymentExpired: false });
    await env.control("tokens/expire");
    expect(await probePortal(portalId)).toBe("reactivated");
    expect((await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).status).toBe("active");
  });

  it("survives a 503 storm with backoff and records the limit hits", async () => {
    const { limitPolicy } = await import("@/lib/bitrix/limits");
    limitPolicy.baseMs = 20;
    // A scripted storm, the same on every run: each of 8 calls meets a run of 503s (up to 5 in a row, one short of
    // the give-up) before its answer — 3 + 1 + 5 + 0 + 2 + 4 + 1 + 3 = 19 limit hits.
    const limit = { status: 503, body: { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" } };
    const storm = [3, 1, 5, 0, 2, 4, 1, 3];
    await env.control("plan", { burst: 500, drain: 100 });
    await getDb().portal.update({ where: { id: portalId }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
    await flushMetrics(); // hits of earlier tests are counted before ours
    const before = await getDb().metricSample.aggregate({
      where: { portalId, name: "rest.limit_hits" },
      _sum: { value: true },
    });
    try {
      const client = await bitrixFor(portalId);
      for (const run of storm) {
        await env.control("faults", { script: Array.from({ length: run }, () => limit) });
        await expect(client.call("crm.deal.get", { id: 1 })).resolves.toMatchObject({ result: { ID: "1" } });
        expect(env.state().faults.script).toHaveLength(0); // every scripted 503 was met, none left for later tests
      }
    } finally {
      await env.control("faults", { script: [] });
      await env.control("plan", { burst: 50, drain: 2 });
      await getDb().portal.update({ where: { id: portalId }, data: { rateBurst: 50, rateDrainPerSec: 2 } });
      limitPolicy.baseMs = 1000;
    }
    await flushMetrics();
    const hits = await getDb().metricSample.aggregate({
      where: { portalId, name: "rest.limit_hits" },
      _sum: { value: true },
    });
    expect((hits._sum.value ?? 0) - (before._sum.value ?? 0)).toBe(storm.reduce((a, b) => a + b, 0));
  });
});
