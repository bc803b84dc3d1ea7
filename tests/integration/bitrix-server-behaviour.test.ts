// Bitrix24's server behaviour where it bites (issue #13): offline error rows, binding twice, events no user acted for.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { acceptEvent } from "@/lib/events/accept";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { queryHistory } from "@/lib/history/query";
import { resolveUserNames } from "@/lib/history/users";
import { reconcileBindings } from "@/lib/lifecycle/bindings";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import { startAppWithFake } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake({ deals: 40 });
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId); // the baseline an edit is diffed against
});
afterAll(() => env.stop());

async function titlesOf(dealId: number) {
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
  const page = await queryHistory(portalId, { entityType: "deal", entityId: dealId });
  return page.items.filter((c) => c.field === "TITLE").map((c) => c.newValue);
}

describe("offline items marked as error", () => {
  it("are read back from the error queue: a record never stops being captured after a failed batch", async () => {
    await env.control("crm/deal/11", { fields: { TITLE: "first" }, userId: 2 });
    // Storing the item fails twice: in its batch (→ event.offline.error) and when taken back from the error queue.
    const create = vi.spyOn(getDb().eventInbox, "create");
    create.mockRejectedValueOnce(new Error("db hiccup")).mockRejectedValueOnce(new Error("db hiccup"));
    const first = await drainOffline(portalId);
    create.mockRestore();
    expect(first.errors).toBeGreaterThan(0);
    const queue = () => env.state().offline.filter((x) => x.connector === AUTH_CONNECTOR);
    expect(queue().filter((x) => x.ERROR === 1)).toHaveLength(1);
    // A later edit of the same record: core merges it into the error row, which plain event.offline.get never returns.
    await env.control("crm/deal/11", { fields: { TITLE: "second" }, userId: 2 });
    expect(await titlesOf(11)).toEqual(["second"]);
    expect(queue()).toEqual([]);
    expect(await getDb().offlineClaim.count({ where: { portalId, status: { not: "cleared" } } })).toBe(0);
  });

  it("a failed item is taken back in the same drain, and its record's next edit is captured too", async () => {
    await env.control("crm/deal/12", { fields: { TITLE: "one" }, userId: 2 });
    const create = vi.spyOn(getDb().eventInbox, "create").mockRejectedValueOnce(new Error("db hiccup"));
    // marked as error, then taken back from the error queue in the same drain
    expect(await titlesOf(12)).toEqual(["one"]);
    create.mockRestore();
    await env.control("crm/deal/12", { fields: { TITLE: "two" }, userId: 3 });
    expect(await titlesOf(12)).toEqual(["two", "one"]);
  });
});

describe("binding twice", () => {
  it("ERROR_CORE 'Handler already binded' (a concurrent instance bound it first) counts as bound", async () => {
    const client = await bitrixFor(portalId);
    let raced = false;
    // Our event.get ran before the other instance's bind: every binding looks missing, and each bind is refused.
    const racing: BitrixClient = Object.assign(Object.create(client) as BitrixClient, {
      call: ((method: string, params?: Record<string, unknown>, opts?: object) => {
        if (method === "event.get" && !raced) {
          raced = true;
          return Promise.resolve({ result: [] });
        }
        return client.call(method, params, opts);
      }) as BitrixClient["call"],
    });
    const features = { rest_offline_extended: env.state().features.rest_offline_extended ?? "N" };
    const report = await reconcileBindings(portalId, racing, features);
    expect(report.failed).toEqual([]);
    expect(report.missingAfter).toEqual([]);
    expect(await getDb().bindingState.count({ where: { portalId, lastError: { not: null } } })).toBe(0);
  });
});

describe("authors' names", () => {
  it("every author gets a name, beyond user.get's page of 50, dismissed and extranet users included", async () => {
    const ids = Array.from({ length: 62 }, (_, i) => i + 1);
    await resolveUserNames(portalId, ids, await bitrixFor(portalId));
    const where = { portalId, userId: { in: ids } };
    const rows = await getDb().userNameCache.findMany({ where, orderBy: { userId: "asc" } });
    expect(rows.map((r) => r.userId)).toEqual(ids);
    expect(rows.find((r) => r.userId === 61)!.name).toBe("Ivan Dismissed");
    expect(rows.find((r) => r.userId === 62)!.name).toBe("Eve Partner");
  });
});

describe("events no user acted for", () => {
  it("a robot's edit (no tokens in auth, user_id 0) is captured", async () => {
    await env.control("crm/deal/13", { fields: { TITLE: "set by a robot" }, userId: 0 });
    expect(await titlesOf(13)).toEqual(["set by a robot"]);
  });

  it("ONOFFLINEEVENT without tokens is accepted and schedules a drain", async () => {
    const p = env.portal();
    const auth = {
      domain: p.domain,
      member_id: p.memberId,
      application_token: env.state().app.applicationToken,
      client_endpoint: p.clientEndpoint,
      server_endpoint: `${env.fake.oauthUrl}/rest/`,
    };
    expect(await acceptEvent({ event: "ONOFFLINEEVENT", ts: "1700000000", auth })).toEqual({ status: "scheduled" });
  });
});
