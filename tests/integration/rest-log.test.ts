import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as restLogRoute } from "@/app/api/admin/rest-log/route";
import type { RestLogEntry } from "@/lib/admin/rest-log";
import { bitrixFor } from "@/lib/bitrix";
import { FIELD_MAX, flushRestLog, pruneRestLog } from "@/lib/bitrix/rest-log";
import { getDb } from "@/lib/db";
import { parseEnv, resetEnvForTests } from "@/lib/env";
import { runWorker } from "@/lib/composition/run-worker";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// The REST log (lib/bitrix/rest-log.ts): every call and OAuth grant the app makes, redacted, kept REST_LOG_DAYS,
// searchable by a portal's admin for their own portal only.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const portalIds: string[] = [];
const A = 0,
  B = 1;
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [A, B]) {
    await env.control("install", { mode: "ui", finish: true }, i);
    portalIds[i] = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
  }
});
afterAll(() => env.stop());

/** Every token the fake Bitrix24 issued (access, refresh — frames' AUTH_ID/REFRESH_ID included) and app token. */
function fakeSecrets(): string[] {
  const fake = env.fake.fake;
  return [...fake.tokens.keys(), ...fake.refreshTokens.keys(), ...fake.portals.map((p) => p.app.applicationToken)];
}
const search = async (token: string | null, query = "") => {
  const res = await restLogRoute(
    new Request(`http://app/api/admin/rest-log${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
  );
  return { status: res.status, body: (await res.json()) as { entries: RestLogEntry[]; next: string | null } };
};
const adminToken = async (i: number) => (await frameSession(env.control, 1, null, i)).token;

describe("what is logged", () => {
  it("every call and grant, with tokens, application_token and client secret redacted", async () => {
    const client = await bitrixFor(portalIds[A]!);
    await env.control("tokens/expire", {}, A);
    await client.call("user.current"); // expired_token → refresh grant → the call again
    await expect(client.call("crm.deal.get", { id: 987654 })).rejects.toThrow(/Not found/);
    // Drive's two steps: the answer's uploadUrl carries our token; the direct upload carries the file as base64.
    await client.call("disk.folder.uploadfile", { id: 1 });
    const file = Buffer.alloc(60_000, 7).toString("base64");
    await client.call("disk.folder.uploadfile", { id: 1, data: { NAME: "big.bin" }, fileContent: ["big.bin", file] });
    await frameSession(env.control, 2, null, A); // a user's frame auth, checked with their own token (callWithToken)
    await flushRestLog();

    const rows = await getDb().restLog.findMany({ orderBy: { id: "asc" } });
    const text = JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    const secrets = [...fakeSecrets(), process.env.BITRIX_CLIENT_SECRET!, process.env.APP_SECRET!];
    expect(secrets.length).toBeGreaterThan(10);
    expect(secrets.filter((s) => text.includes(s))).toEqual([]);

    const ofA = rows.filter((r) => r.portalId === portalIds[A]);
    const one = (pred: (r: (typeof rows)[number]) => boolean) => ofA.filter(pred).at(-1);
    // The install's grant and the refresh above, attributed to the portal from the OAuth server's answer.
    const grant = one((r) => r.method === "oauth:refresh_token");
    expect(grant).toMatchObject({ lane: "oauth", status: 200, host: new URL(env.fake.oauthUrl).host });
    expect(JSON.parse(grant!.params)).toMatchObject({ refresh_token: "[redacted]", client_secret: "[redacted]" });
    expect(JSON.parse(grant!.response)).toMatchObject({ access_token: "[redacted]", refresh_token: "[redacted]" });
    const expired = one((r) => r.method === "user.current" && r.status === 401);
    expect(expired).toMatchObject({ lane: "background", errorCode: "expired_token" });
    const ok = one((r) => r.method === "user.current" && r.status === 200)!;
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(ok.params)).toEqual({ auth: "[redacted]" });
    expect(JSON.parse(ok.response).result).toMatchObject({ ID: "1" });
    expect(one((r) => r.method === "crm.deal.get")).toMatchObject({ status: 400, errorCode: "Not found" });
    const [step1, direct] = ofA.filter((r) => r.method === "disk.folder.uploadfile");
    const uploadUrl = JSON.parse(step1!.response).result.uploadUrl as string;
    expect(uploadUrl).toMatch(/\/upload\.json\?auth=\[redacted\]&token=\[redacted\]/);
    expect(direct!.params).toContain(`"fileContent":["big.bin","[base64, ${file.length} chars]"]`);
    const longest = Math.max(...rows.map((r) => Math.max(r.params.length, r.response.length)));
    expect(longest).toBeLessThanOrEqual(FIELD_MAX + "…[truncated]".length);
    // The frame check goes with the user's token to the stored address, in the portal's interactive lane (a user's
    // calls share its budget), attributed by the portal's host.
    const frame = one((r) => r.method === "batch" && r.params.includes("user.current"));
    expect(frame).toMatchObject({ status: 200, lane: "interactive", host: env.portal(A).domain });
    expect(JSON.parse(frame!.params)).toMatchObject({ auth: "[redacted]", cmd: { me: "user.current" } });
  });
});

describe("GET /api/admin/rest-log", () => {
  let tokenA = "";
  beforeAll(async () => {
    for (const i of [A, B]) {
      const client = await bitrixFor(portalIds[i]!);
      await client.call("crm.deal.list", { filter: { TITLE: `only-${i}` } });
      await client.call("crm.deal.get", { id: 987000 + i }).catch(() => undefined);
    }
    await flushRestLog();
    tokenA = await adminToken(A);
  });

  it("shows an admin their own portal's calls only, whatever the query names", async () => {
    const all: RestLogEntry[] = [];
    let before: string | null = "";
    while (before !== null) {
      const { status, body } = await search(tokenA, `?portalId=${portalIds[B]}&limit=100&before=${before}`);
      expect(status).toBe(200);
      all.push(...body.entries);
      before = body.next;
    }
    const text = JSON.stringify(all);
    expect(text).toContain("only-0");
    expect(text).not.toContain("only-1");
    expect(all.length).toBe(await getDb().restLog.count({ where: { portalId: portalIds[A] } }));
    const hosts = new Set(all.map((e) => e.host));
    expect(hosts.has(env.portal(A).domain)).toBe(true);
    expect(hosts.has(env.portal(B).domain)).toBe(false);
  });

  it("filters by method prefix and status, pages by cursor without gaps or repeats", async () => {
    const byMethod = (await search(tokenA, "?method=crm.deal")).body.entries;
    expect(byMethod.map((e) => e.method)).toEqual(expect.arrayContaining(["crm.deal.list", "crm.deal.get"]));
    expect(byMethod.every((e) => e.method.startsWith("crm.deal"))).toBe(true);
    const failed = (await search(tokenA, "?status=error")).body.entries;
    const notFound = (e: RestLogEntry) =>
      e.method === "crm.deal.get" && e.status === 400 && e.params.includes("987000");
    expect(failed.some(notFound)).toBe(true);
    expect(failed.every((e) => e.status === 0 || e.status >= 400 || e.errorCode !== null)).toBe(true);
    expect((await search(tokenA, "?status=200")).body.entries.every((e) => e.status === 200)).toBe(true);

    const first4 = (await search(tokenA, "?limit=4")).body;
    const page1 = (await search(tokenA, "?limit=2")).body;
    const page2 = (await search(tokenA, `?limit=2&before=${page1.next}`)).body;
    expect([...page1.entries, ...page2.entries].map((e) => e.id)).toEqual(first4.entries.map((e) => e.id));
    const times = first4.entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await search(tokenA, "?before=not-a-cursor")).status).toBe(400);
  });

  it("refuses a non-admin (403) and a request without a session (401)", async () => {
    const employee = (await frameSession(env.control, 2, null, A)).token;
    const refused = await search(employee);
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain("only-0");
    expect((await search(null)).status).toBe(401);
  });
});

describe("retention", () => {
  const day = 24 * 3600_000;
  const put = (method: string, ageMs: number) =>
    getDb().restLog.create({
      data: {
        at: new Date(Date.now() - ageMs),
        portalId: portalIds[A],
        host: "h",
        method,
        status: 200,
        durationMs: 1,
        params: "{}",
        response: "{}",
      },
    });
  const methods = async () =>
    (await getDb().restLog.findMany({ where: { method: { startsWith: "age." } } })).map((r) => r.method);

  it("keeps REST_LOG_DAYS (default 3) and prunes older rows, in batches", async () => {
    await put("age.4d", 4 * day);
    await put("age.2d", 2 * day);
    await getDb().$executeRaw`
      INSERT INTO "RestLog" (at, "portalId", host, method, status, "durationMs", params, response)
      SELECT (now() AT TIME ZONE 'UTC') - interval '5 days', ${portalIds[A]}, 'h', 'age.bulk', 200, 1, '{}', '{}'
      FROM generate_series(1, 12000)`;
    try {
      process.env.REST_LOG_DAYS = "5";
      resetEnvForTests();
      expect(await pruneRestLog()).toBe(12_000);
      expect((await methods()).sort()).toEqual(["age.2d", "age.4d"]);
    } finally {
      delete process.env.REST_LOG_DAYS;
      resetEnvForTests();
    }
    expect(await pruneRestLog()).toBe(1);
    expect(await methods()).toEqual(["age.2d"]);
  });

  it("refuses a window under 3 days at start", () => {
    const base = {
      APP_URL: "https://a.example",
      BITRIX_CLIENT_ID: "x",
      BITRIX_CLIENT_SECRET: "y",
      APP_SECRET: "z".repeat(32),
    };
    expect(() => parseEnv({ ...base, REST_LOG_DAYS: "2" })).toThrow(/REST_LOG_DAYS: must be at least 3/);
    expect(parseEnv(base).REST_LOG_DAYS).toBe(3);
  });

  it("is pruned by a scheduled job of the worker", async () => {
    await put("age.old", 4 * day);
    // The installs above queued long work (backfill passes of every type, stage-history imports) that a worker would
    // run first: this test is about the schedule, so the queue starts empty.
    await getDb().job.deleteMany({ where: { status: "pending" } });
    const stop = new AbortController();
    const worker = runWorker(stop.signal);
    try {
      const pruned = async () => (await getDb().job.count({ where: { kind: "restlog.prune", status: "done" } })) > 0;
      await waitUntil(pruned, 20_000);
    } finally {
      stop.abort();
      await worker;
    }
    expect(await methods()).toEqual(["age.2d"]);
  });
});
