import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { drainOffline } from "@/lib/events/offline";
import { processInboxBatch } from "@/lib/events/inbox";
import { runBackfill } from "@/lib/history/backfill";
import { JOB_HANDLERS } from "@/lib/composition/registry";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

// An uninstall is acted on only once the OAuth server confirms it (issue #20 item 1, lib/lifecycle/uninstall.ts):
// Bitrix24 revokes the app's tokens on uninstall, so the server refuses our stored refresh token. When the OAuth
// server gives no answer at all (connection lost, a 5xx page) nothing is done and a lifecycle.uninstall job asks
// again later; the refusal, when it comes, makes the uninstall take effect. And a genuinely uninstalled portal
// never receives another request from the app (its rights are revoked; the seeds forbid it).
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const settle = async (portalId: string) => {
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
};

/** The link between the app and the fake's OAuth server, which can lose the answers: "drop" closes the connection
 * without one, "503" answers the error page a proxy in front of a down server gives. */
let link: "pass" | "drop" | "503" = "pass";
let oauthRequests = 0;
let proxy: Server;
let proxyUrl = "";

async function startProxy() {
  proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    oauthRequests++;
    if (link === "drop") return void req.socket.destroy();
    if (link === "503")
      return void res
        .writeHead(503, { "content-type": "text/html" })
        .end("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>");
    const up = await fetch(`${env.fake.oauthUrl}${req.url ?? "/"}`, {
      method: req.method,
      headers: { "content-type": String(req.headers["content-type"] ?? "") },
      body: req.method === "GET" ? undefined : Buffer.concat(chunks),
    });
    res
      .writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" })
      .end(Buffer.from(await up.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

/** Every request a portal's listener received from the app since `since` (the control API is not logged). */
const requestsSince = async (since: number, i: number) =>
  (await env.control(`log?since=${since}`, undefined, i, "GET")) as unknown as { rest?: string; path: string }[];
const lastLogN = (i: number) => env.state(i).counters.logSeq;

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  await startProxy();
  for (const i of [0, 1]) {
    const id = (await installPortal(env, i)).id;
    ids.push(id);
    await runBackfill(id);
    await env.control("crm/deal/2", { fields: { TITLE: `Edited before the uninstall (${i})` }, userId: 2 }, i);
    await settle(id);
  }
  // Both portals' OAuth server is reached through the link (it is in the allow-list, as a regional server would be).
  process.env.BITRIX_OAUTH_ALLOWED = `${env.fake.oauthUrl},${proxyUrl}`;
  resetEnvForTests();
  await getDb().portal.updateMany({ where: { id: { in: ids } }, data: { serverEndpoint: `${proxyUrl}/rest/` } });
});
afterAll(async () => {
  await new Promise<void>((r) => {
    proxy.closeAllConnections();
    proxy.close(() => r());
  });
  await env.stop();
});

/** What a worker does with the uninstall job once it is due: claims it and runs its handler. */
async function runQueuedUninstall(portalId: string) {
  const job = await getDb().job.findFirstOrThrow({
    where: { portalId, kind: "lifecycle.uninstall", status: "pending" },
    orderBy: { id: "desc" },
  });
  await getDb().job.update({ where: { id: job.id }, data: { status: "running", attempts: { increment: 1 } } });
  const result = await JOB_HANDLERS["lifecycle.uninstall"]!({
    id: job.id,
    portalId,
    kind: job.kind,
    payload: job.payload,
    attempts: job.attempts + 1,
  });
  await getDb().job.updateMany({ where: { id: job.id }, data: { status: "done", finishedAt: new Date() } });
  return result;
}

const kept = async (portalId: string) => ({
  status: (await getDb().portal.findUnique({ where: { id: portalId } }))?.status,
  changes: await getDb().fieldChange.count({ where: { portalId } }),
  snapshots: await getDb().crmSnapshot.count({ where: { portalId } }),
  tokens: await getDb().tokenSet.count({ where: { portalId } }),
});

describe("an uninstall the OAuth server cannot confirm yet", () => {
  it("purges nothing and schedules a retry; the refusal, when it comes, makes CLEAN=1 take effect", async () => {
    const portalId = ids[0]!;
    const before = await kept(portalId);
    expect(before).toMatchObject({ status: "active", tokens: 1 });
    expect(before.changes).toBeGreaterThan(0);
    expect(before.snapshots).toBeGreaterThan(0);
    const logMark = lastLogN(0);

    // A genuine uninstall (Bitrix24 revoked the tokens), but the OAuth server's answer is lost.
    link = "drop";
    const seen = oauthRequests;
    const delivered = (await env.control("uninstall", { clean: true }, 0)) as unknown as {
      status: number;
      text: string;
    }[];
    expect(delivered.map((d) => [d.status, JSON.parse(d.text)])).toEqual([[200, { status: "unconfirmed" }]]);
    expect(oauthRequests).toBeGreaterThan(seen); // the app did ask
    expect(await kept(portalId)).toEqual(before); // nothing purged, nothing disabled
    const retry = await getDb().job.findFirstOrThrow({
      where: { portalId, kind: "lifecycle.uninstall", status: "pending" },
    });
    expect(retry.payload).toEqual({ clean: true, attempt: 1 });
    expect(retry.runAt.getTime()).toBeGreaterThan(Date.now()); // later, not in a loop
    expect(await getDb().auditLog.count({ where: { portalId, action: "uninstall.unconfirmed" } })).toBe(1);

    // The retry meets a down server (a 5xx page): still nothing done, another retry later.
    link = "503";
    expect(await runQueuedUninstall(portalId)).toBe("unconfirmed");
    expect(await kept(portalId)).toEqual(before);
    const second = await getDb().job.findFirstOrThrow({
      where: { portalId, kind: "lifecycle.uninstall", status: "pending" },
    });
    expect(second.payload).toEqual({ clean: true, attempt: 2 });
    expect(await getDb().auditLog.count({ where: { portalId, action: "uninstall.unconfirmed" } })).toBe(2);

    // The server answers again, refusing the revoked refresh token: the uninstall is confirmed and CLEAN=1 purges.
    link = "pass";
    expect(await runQueuedUninstall(portalId)).toBe("uninstalled");
    expect(await kept(portalId)).toEqual({ status: undefined, changes: 0, snapshots: 0, tokens: 0 });
    expect(await getDb().auditLog.count({ where: { memberId: env.portal(0).memberId, action: "uninstall" } })).toBe(1);
    // The other portal is untouched, and the uninstalled one heard nothing from the app throughout.
    expect((await kept(ids[1]!)).status).toBe("active");
    expect(await requestsSince(logMark, 0)).toEqual([]);
  });
});

describe("after a genuine uninstall", () => {
  it("the app makes no request to the portal, whatever work was waiting or is asked of it", async () => {
    const portalId = ids[1]!;
    link = "pass";
    // Work left waiting when the uninstall arrives: an edit whose event is not processed yet.
    await env.control("crm/deal/3", { fields: { TITLE: "Edited just before the uninstall" }, userId: 2 }, 1);
    const logMark = lastLogN(1);
    const delivered = (await env.control("uninstall", { clean: false }, 1)) as unknown as {
      status: number;
      text: string;
    }[];
    expect(delivered.map((d) => [d.status, JSON.parse(d.text)])).toEqual([[200, { status: "uninstalled" }]]);
    expect(await kept(portalId)).toMatchObject({ status: "uninstalled", tokens: 0 });

    // Everything a worker or a user could still set off for this portal.
    await settle(portalId).catch(() => undefined);
    for (const kind of [
      "offline.drain",
      "portal.probe",
      "tokens.keepalive",
      "history.backfill",
      "history.reconcile",
      "lifecycle.uninstall",
    ]) {
      await JOB_HANDLERS[kind]!({ id: 0n, portalId, kind, payload: { clean: false, attempt: 1 }, attempts: 1 }).catch(
        () => undefined,
      );
    }
    await expect(bitrixFor(portalId)).rejects.toBeDefined();
    // A late event for the portal (a replayed body) is refused without asking the portal anything.
    const body = new URLSearchParams({
      event: "ONCRMDEALUPDATE",
      "data[FIELDS][ID]": "3",
      ts: String(Math.floor(Date.now() / 1000)),
      "auth[member_id]": env.portal(1).memberId,
      "auth[application_token]": env.state(1).app.applicationToken,
      "auth[domain]": env.state(1).domain,
    });
    const late = await fetch(`${env.app.url}/api/bitrix/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(late.status).toBe(410);
    await settle(portalId).catch(() => undefined);

    expect(await requestsSince(logMark, 1)).toEqual([]);
    expect(env.state(1).app.installed).toBe(false);
  });
});
