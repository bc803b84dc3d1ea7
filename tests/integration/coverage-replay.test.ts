import { spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CoverageCard } from "@/components/admin/coverage-card";
import { COVERAGE_DAYS, loadCoverage } from "@/lib/admin/coverage";
import { getDb } from "@/lib/db";
import { MAX_ATTEMPTS, processInboxBatch } from "@/lib/events/inbox";
import { replayDeadEvents } from "@/lib/events/replay";
import { runBackfill } from "@/lib/history/backfill";
import { runReconcile, type SweepReport } from "@/lib/history/reconcile";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";
import { workerEnv } from "../support/spawn-worker";
import { testDatabaseUrl } from "../support/test-db";

// Issue #15 item 4: coverage per CRM type on the admin page, and Replay of dead-lettered events. Portal 0 takes its
// CRM events online (a lost delivery is never resent, so its sweep is what finds lost edits); portal 1 is another
// tenant whose rows portal 0's admin must not move.
// The card's Replay button is a client island: outside Next.js its router is a stub.
vi.mock("next/navigation", () => ({ useRouter: () => ({ refresh: () => undefined }) }));

let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const ROOT = path.resolve(import.meta.dirname, "../..");

const advance = (seconds: number) => env.control("clock", { advance: seconds });
const settle = async () => {
  while (await processInboxBatch("test", 200));
};
const dealChanges = (entityId: number) =>
  getDb().fieldChange.findMany({
    where: { portalId: ids[0]!, entityType: "deal", entityId, source: { not: "stagehistory" } },
    orderBy: { id: "asc" },
  });
const inboxOf = (entityId: number) =>
  getDb().eventInbox.findMany({
    where: {
      portalId: ids[0]!,
      event: "ONCRMDEALUPDATE",
      payload: { path: ["data", "FIELDS", "ID"], equals: String(entityId) },
    },
  });
const typeOf = async (key: string) => (await loadCoverage(ids[0]!)).types.find((t) => t.entityType === key)!;

/** A deal edit whose event arrives and fails every attempt (the portal answers its read with an error): dead. */
async function deadLetteredEdit(entityId: number, title: string) {
  await env.control("faults", { methodErrors: { "crm.item.list": "INTERNAL_SERVER_ERROR" } });
  try {
    await env.control(`crm/deal/${entityId}`, { fields: { TITLE: title }, userId: 2 });
    await waitUntil(async () => (await inboxOf(entityId)).some((r) => r.status === "pending"));
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const due = { where: { portalId: ids[0]!, status: "pending" as const }, data: { nextAttemptAt: new Date(0) } };
      await getDb().eventInbox.updateMany(due);
      await processInboxBatch("test", 200);
    }
  } finally {
    await env.control("faults", { methodErrors: {} });
  }
  const [row] = (await inboxOf(entityId)).filter((r) => r.status === "dead");
  expect(row).toMatchObject({ status: "dead", attempts: MAX_ATTEMPTS });
  expect(row!.lastError).toContain("INTERNAL_SERVER_ERROR");
  return row!;
}

async function replayRoute(token: string | null, body?: string) {
  const { POST } = await import("@/app/api/admin/replay/route");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await POST(new Request("http://app/api/admin/replay", { method: "POST", headers, body }));
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2, deals: 20 });
  // Without rest_offline_extended the app binds the CRM events online (lib/lifecycle/registry.ts).
  await env.control("features", { code: "rest_offline_extended", value: "N" }, 0);
  for (const i of [0, 1]) {
    await env.control("plan", { burst: 500, drain: 100 }, i);
    await env.control("install", { mode: "ui", finish: true }, i);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
    await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
    ids[i] = portal.id;
    expect((await runBackfill(portal.id)).complete).toBe(true);
  }
  await settle();
});
afterAll(() => env.stop());

describe("coverage", () => {
  it("counts the events received per type — item types by ENTITY_TYPE_ID — with the last one's time", async () => {
    const before = await loadCoverage(ids[0]!);
    const received = (c: typeof before, key: string) => c.types.find((t) => t.entityType === key)?.eventsReceived ?? 0;
    expect(before.types.map((t) => t.entityType).slice(0, 6)).toEqual([
      "deal",
      "contact",
      "company",
      "lead",
      "quote",
      "smart_invoice",
    ]);
    await env.control("crm/deal/3", { fields: { TITLE: "Counted" }, userId: 2 });
    await env.control("crm/contact/2", { fields: { NAME: "Counted" }, userId: 2 });
    await env.control("items/7/2", { fields: { title: "Counted quote" }, userId: 2 });
    await env.control("items/31/1", { fields: { title: "Counted invoice" }, userId: 2 });
    await env.control("items/128/1", { fields: { title: "Counted project" }, userId: 2 });
    const keys = ["deal", "contact", "quote", "smart_invoice", "dynamic_128"];
    await waitUntil(async () => {
      const now = await loadCoverage(ids[0]!);
      return keys.every((k) => received(now, k) > received(before, k));
    });
    await settle();
    const after = await loadCoverage(ids[0]!);
    const delta = Object.fromEntries(
      [...keys, "company", "lead"].map((k) => [k, received(after, k) - received(before, k)]),
    );
    expect(delta).toEqual({ deal: 1, contact: 1, quote: 1, smart_invoice: 1, dynamic_128: 1, company: 0, lead: 0 });
    const project = after.types.find((t) => t.entityType === "dynamic_128")!;
    // The invoice's update is an ONCRMDYNAMICITEMUPDATE too (ENTITY_TYPE_ID 31) and may arrive after the project's.
    const row = await getDb().eventInbox.findFirstOrThrow({
      where: {
        portalId: ids[0]!,
        event: "ONCRMDYNAMICITEMUPDATE",
        payload: { path: ["data", "FIELDS", "ENTITY_TYPE_ID"], equals: "128" },
      },
      orderBy: { receivedAt: "desc" },
    });
    expect(project.lastEventAt?.getTime()).toBe(row.receivedAt.getTime());
    // Another portal's events are not this one's.
    expect((await loadCoverage(ids[1]!)).types.every((t) => t.eventsReceived === 0)).toBe(true);
  });
});

describe("replay", () => {
  it("re-runs a dead-lettered event once: its change is recorded once, a second Replay moves nothing", async () => {
    const row = await deadLetteredEdit(8, "Dead then replayed");
    expect(await dealChanges(8)).toEqual([]);
    expect((await typeOf("deal")).dead).toBe(1);
    const admin = (await frameSession(env.control, 1)).token;

    const first = await replayRoute(admin, "{}");
    expect(first).toEqual({ status: 200, json: { replayed: 1, ids: [String(row.id)] } });
    const back = await getDb().eventInbox.findUniqueOrThrow({ where: { id: row.id } });
    // Queued as if just received; the reason it died stays until a worker takes it.
    expect(back).toMatchObject({ status: "pending", attempts: 0, lockedBy: null, lastError: row.lastError });
    expect((await typeOf("deal")).dead).toBe(0);
    await settle();
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      status: "done",
      attempts: 1,
      lastError: null,
    });
    expect((await dealChanges(8)).map((c) => [c.field, c.newValue, c.source, c.changedById])).toEqual([
      ["TITLE", "Dead then replayed", "event", 2],
    ]);

    const again = await replayRoute(admin, JSON.stringify({ ids: [String(row.id)] }));
    expect(again.json).toEqual({ replayed: 0, ids: [] });
    await settle();
    expect(await dealChanges(8)).toHaveLength(1);
    const audit = await getDb().auditLog.findMany({
      where: { portalId: ids[0]!, action: "events.replayed" },
      orderBy: { createdAt: "asc" },
    });
    expect(audit.map((a) => (a.detail as { count: number }).count)).toEqual([1, 0]);
  });

  it("a replayed event whose change a sweep already recovered records nothing more (the diff is against snapshots)", async () => {
    await runReconcile(ids[0]!); // the watermark: the next sweep lists what changes from here
    await advance(120);
    const row = await deadLetteredEdit(9, "Lost, swept, replayed");
    await advance(120); // past the next sweep's overlap
    const swept = (await runReconcile(ids[0]!)) as Record<string, SweepReport | null>;
    expect(swept.deal).toMatchObject({ recovered: 1 });
    expect((await dealChanges(9)).map((c) => [c.field, c.newValue, c.source])).toEqual([
      ["TITLE", "Lost, swept, replayed", "reconciled"],
    ]);

    const deal = await typeOf("deal");
    expect(deal.sweepOnly).toBe(1);
    expect(deal.sweepOnlyPerDay).toHaveLength(COVERAGE_DAYS);
    expect(deal.sweepOnlyPerDay.at(-1)).toBe(1); // found today
    const run = await getDb().reconcileRun.findUniqueOrThrow({
      where: { portalId_entityType: { portalId: ids[0]!, entityType: "deal" } },
    });
    expect(deal.lastSweepAt?.getTime()).toBe(run.lastRunAt!.getTime());
    expect(deal.dead).toBe(1);

    expect(await replayDeadEvents(ids[0]!, [row.id])).toEqual({ replayed: 1, ids: [row.id] });
    await settle();
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: "done" });
    expect(await dealChanges(9)).toHaveLength(1);
    expect((await typeOf("deal")).sweepOnly).toBe(1);
  });

  it("two Replays at once move each row once", async () => {
    const make = (n: number) =>
      getDb().eventInbox.create({
        data: {
          portalId: ids[0]!,
          event: "ONCRMTYPEUPDATE",
          idempotencyKey: `race-${n}`,
          payload: { data: null },
          status: "dead",
          attempts: MAX_ATTEMPTS,
          lastError: "x",
        },
      });
    const rows = await Promise.all([1, 2, 3].map(make));
    expect((await loadCoverage(ids[0]!)).dead).toBe(3); // Replay moves them too, though they are of no CRM type
    const holder = new pg.Client({ connectionString: await testDatabaseUrl() });
    await holder.connect();
    let both: Promise<Awaited<ReturnType<typeof replayDeadEvents>>[]>;
    try {
      // Both replays are made to meet at the same rows: a transaction holds their locks until both wait on them.
      await holder.query("BEGIN");
      await holder.query(`SELECT id FROM "EventInbox" WHERE id = ANY($1::bigint[]) FOR UPDATE`, [
        rows.map((r) => String(r.id)),
      ]);
      both = Promise.all([replayDeadEvents(ids[0]!), replayDeadEvents(ids[0]!)]);
      // Both replays waiting on the held row locks — the only sessions of this database that can wait on a lock here.
      // Not matched by their text: pg_stat_activity showed one waiting replay (on transactionid) with its connection's
      // previous statement as its query, so a text match never saw two. A loaded machine may take a while to give
      // them their connections, so the wait is long — it ends as soon as both wait.
      await waitUntil(
        async () =>
          (
            await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`)
          ).rows[0].n === 2,
        60_000,
      );
      await holder.query("COMMIT");
    } finally {
      await holder.end();
    }
    const [a, b] = await both!;
    expect(a!.replayed + b!.replayed).toBe(3);
    expect([...a!.ids, ...b!.ids].sort()).toEqual(rows.map((r) => r.id).sort());
    await getDb().eventInbox.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
  }, 150_000); // longer than its own 60 s wait for both locks: on a loaded machine that wait, not the runner, must say why

  it("admins only, the session's own portal, and a clear 400 on a body it cannot read", async () => {
    const other = await getDb().eventInbox.create({
      data: {
        portalId: ids[1]!,
        event: "ONCRMTYPEUPDATE",
        idempotencyKey: "other-portal",
        payload: { data: null },
        status: "dead",
        attempts: MAX_ATTEMPTS,
      },
    });
    const employee = (await frameSession(env.control, 2)).token;
    expect((await replayRoute(employee, "{}")).status).toBe(403);
    expect((await replayRoute(null, "{}")).status).toBe(401);
    const admin = (await frameSession(env.control, 1)).token;
    const bad = await Promise.all(
      ["{not json", '{"ids": []}', '{"ids": ["12a"]}', '{"ids": "1"}'].map((body) => replayRoute(admin, body)),
    );
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(bad[0]!.json.message).toMatch(/not JSON/);
    expect(bad[2]!.json.message).toMatch(/^Invalid ids\.0/);
    // Portal 1's row named by portal 0's admin: not theirs to move.
    const cross = await replayRoute(admin, JSON.stringify({ ids: [String(other.id)] }));
    expect(cross.json).toEqual({ replayed: 0, ids: [] });
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ status: "dead" });
    await getDb().eventInbox.delete({ where: { id: other.id } });
  });
});

describe("the coverage card", () => {
  it("shows each type's figures and a 14-day chart, in the portal's language; Replay only when rows are dead", async () => {
    const dead = await getDb().eventInbox.create({
      data: {
        portalId: ids[0]!,
        event: "ONCRMLEADUPDATE",
        idempotencyKey: "card",
        payload: { data: { FIELDS: { ID: "1" } } },
        status: "dead",
        attempts: MAX_ATTEMPTS,
      },
    });
    const html = renderToStaticMarkup(await CoverageCard({ portalId: ids[0]!, lang: "ru" }));
    expect(html).toContain("Полнота истории");
    const rows = html.split("<tr>").slice(2); // after the head
    const deal = rows.find((r) => r.startsWith("<td>Сделка</td>"))!;
    // found only by sweeps: 1 (deal 9 above), its chart one bar a day, labelled
    const chart = "Сделка: Изменений, найденных только сверкой, по дням за 14 дней";
    expect(deal).toMatch(new RegExp(`>1</span><svg[^>]+aria-label="${chart}`));
    const bars = deal.match(/<rect [^>]*height="(\d+)"/g)!.map((r) => Number(/height="(\d+)"/.exec(r)![1]));
    expect(bars).toEqual([...Array<number>(COVERAGE_DAYS - 1).fill(1), 28]); // today's bar; the others empty
    // Item types by name; a smart process by the title its admin gave it (crm.type.getByEntityTypeId).
    expect(rows.map((r) => /^<td>([^<]*)<\/td>/.exec(r)![1])).toEqual([
      "Сделка",
      "Контакт",
      "Компания",
      "Лид",
      "Предложение",
      "Счёт",
      "Projects",
    ]);
    const lead = rows.find((r) => r.startsWith("<td>Лид</td>"))!;
    expect(lead).toMatch(/>1<\/span><\/td><\/tr>/); // its dead-lettered event
    expect(html).toContain(">Повторить</button>");
    await getDb().eventInbox.delete({ where: { id: dead.id } });
    // Portal 1: nothing dead, nothing to replay.
    const other = renderToStaticMarkup(await CoverageCard({ portalId: ids[1]!, lang: "en" }));
    expect(other).toContain("Coverage");
    expect(other).not.toContain(">Replay</button>");
  });
});

describe("npm run replay -- <portal>", () => {
  const run = (arg: string) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn("npm", ["run", "--silent", "replay", "--", arg], {
        cwd: ROOT,
        env: workerEnv({ LOG_LEVEL: "silent" }) as NodeJS.ProcessEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "",
        err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.on("exit", (code) => resolve({ code, out, err }));
    });

  it("exits 1 with one line for an unknown portal; replays a known one's dead rows by domain", async () => {
    const unknown = await run("no-such.bitrix24.com");
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe(
      'unknown portal "no-such.bitrix24.com": give its member_id or domain ' + "(e.g. example.bitrix24.com)",
    );
    const dead = await getDb().eventInbox.create({
      data: {
        portalId: ids[1]!,
        event: "ONCRMTYPEUPDATE",
        idempotencyKey: "cli",
        payload: { data: null },
        status: "dead",
        attempts: MAX_ATTEMPTS,
      },
    });
    const domain = (await getDb().portal.findUniqueOrThrow({ where: { id: ids[1]! } })).domain;
    const known = await run(domain);
    expect(known).toMatchObject({ code: 0, out: `replayed 1 dead-lettered event of ${domain}\n` });
    expect(await getDb().eventInbox.findUniqueOrThrow({ where: { id: dead.id } })).toMatchObject({ status: "pending" });
  });
});
