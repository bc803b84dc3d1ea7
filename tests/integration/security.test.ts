import { createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { readSessionToken } from "@/lib/auth/session";
import { bitrixFor } from "@/lib/bitrix";
import { flushRestLog } from "@/lib/bitrix/rest-log";
import { decryptSecret, resetKeysForTests, sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { flushMetrics } from "@/lib/metrics/bump";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { discoverRoutes, discoverServerActions, fillPath, paramsFor, ROOT, type DiscoveredRoute } from "../support/routes";
import { testDatabaseUrl } from "../support/test-db";

// Adversarial tests of the app's trust boundaries (docs/security.md). Every API route found on disk must have an
// entry in ATTACKS; the page routes are attacked over HTTP in tests/e2e/security.spec.ts.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const portals: { id: string; memberId: string }[] = [];
const A = 0, B = 1, C = 2;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

beforeAll(async () => {
  env = await startAppWithFake({ portals: 3 });
  // Limits are not under test: a QUERY_LIMIT_EXCEEDED on a frame check would read as a refusal.
  for (const i of [A, B, C]) await env.control("plan", { burst: 100_000, drain: 10_000 }, i);
  for (const i of [A, B]) await env.control("install", { mode: "ui", finish: true }, i);
  for (const i of [A, B]) portals[i] = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
});
afterAll(() => env.stop());

/** Every token the fake Bitrix24 ever issued or sent (access, refresh, application_token), collected as they come. */
const seen = new Set<string>();
function remember() {
  for (const k of [...env.fake.fake.tokens.keys(), ...env.fake.fake.refreshTokens.keys()]) seen.add(k);
  for (const p of env.fake.fake.portals) seen.add(p.app.applicationToken);
}
afterEach(() => remember());
/** Our own secrets and the keys derived from them (token encryption, next-auth's session encryption). */
function secrets(): string[] {
  const appSecret = process.env.APP_SECRET!;
  const keys = [hkdfSync("sha256", appSecret, "b24-app", "token-encryption-v1", 32), hkdfSync("sha256", appSecret, "", "NextAuth.js Generated Encryption Key", 32)].map((k) => Buffer.from(k));
  return [appSecret, process.env.BITRIX_CLIENT_SECRET!, ...keys.flatMap((k) => [k.toString("hex"), k.toString("base64"), k.toString("base64url")])];
}

type Handler = (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
interface SendOptions {
  method?: string; token?: string | null; via?: "bearer" | "st"; body?: unknown; form?: Record<string, string>;
  params?: Record<string, string>; query?: string; headers?: Record<string, string>;
}
async function send(route: DiscoveredRoute, o: SendOptions = {}) {
  const method = o.method ?? route.methods.find((m) => m !== "GET") ?? "GET";
  const mod = (await import(path.join(ROOT, route.file))) as Record<string, Handler>;
  const headers: Record<string, string> = { ...o.headers, ...(o.token && o.via !== "st" ? { authorization: `Bearer ${o.token}` } : {}) };
  let body: string | undefined;
  if (o.form) [body, headers["content-type"]] = [new URLSearchParams(o.form).toString(), FORM["content-type"]];
  else if (o.body !== undefined) [body, headers["content-type"]] = [JSON.stringify(o.body), "application/json"];
  const url = new URL(`http://app${fillPath(route.path, o.params ?? {})}${o.query ?? ""}`);
  if (o.token && o.via === "st") url.searchParams.set("st", o.token);
  return mod[method]!(new Request(url, { method, headers, body }), { params: Promise.resolve(paramsFor(route.path, o.params ?? {})) });
}
const byPath = (p: string) => discoverRoutes().find((r) => r.path === p)!;
const frame = async (i: number, userId = 1, extra: Record<string, unknown> = {}) => (await env.control("frame-auth", { userId, ...extra }, i)) as Record<string, string>;
async function sessionFor(i: number, userId: number): Promise<string> {
  const f = await frame(i, userId);
  const res = await send(byPath("/api/auth/frame"), { body: { AUTH_ID: f.AUTH_ID, member_id: f.member_id } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Every row of the portal in every table, as text, plus how many requests its fake portal received. */
async function footprint(i: number) {
  await flushMetrics();
  const client = new pg.Client({ connectionString: await testDatabaseUrl() });
  await client.connect();
  try {
    // The REST log mirrors `requests` (each row is a request the portal received), so it is counted there.
    const { rows: tables } = await client.query<{ table_name: string }>(`SELECT table_name
      FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'portalId'
      AND table_name <> 'RestLog' ORDER BY 1`);
    const out: string[] = [];
    for (const { table_name: t } of tables) out.push(...(await client.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM "${t}" x WHERE "portalId" = $1 ORDER BY 1`, [portals[i]!.id])).rows.map((r) => `${t} ${r.r}`));
    out.push(...(await client.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM "Portal" x WHERE id = $1`, [portals[i]!.id])).rows.map((r) => r.r));
    return { requests: env.state(i).log.length, timeline: env.state(i).timeline.length, rows: out };
  } finally {
    await client.end();
  }
}

/** Refused requests counted in a footprint's AuthFailure rows (one row per portal, reason, route and minute). */
const refusals = (rows: string[]) => rows.filter((r) => r.startsWith("AuthFailure "))
  .reduce((n, r) => n + (JSON.parse(r.slice("AuthFailure ".length)) as { count: number }).count, 0);

describe("route enumeration", () => {
  it("finds App Router handlers and pages, Pages Router pages and API routes, and server actions", () => {
    const root = mkdtempSync(path.join(tmpdir(), "routes-"));
    const put = (rel: string, src: string) => { mkdirSync(path.dirname(path.join(root, rel)), { recursive: true }); writeFileSync(path.join(root, rel), src); };
    put("app/(shop)/orders/[id]/page.tsx", "export default function P() { return null }");
    put("app/api/x/route.ts", "export async function POST() {}\nexport const GET = () => 1;");
    put("app/_private/page.tsx", "");
    put("pages/placements/tab.tsx", "import { getPageSession } from 'x'; export default function T() { return null }");
    put("pages/reports/index.tsx", "export default function R() { return null }");
    put("pages/_app.tsx", "");
    put("pages/api/hook.ts", "export default function h() {}");
    put("lib/act.ts", "\"use server\";\nexport async function a() {}");
    expect(discoverRoutes(root).map((r) => `${r.kind} ${r.router} ${r.path} ${r.methods.join(",")} ${r.reads.session}`)).toEqual([
      "api pages /api/hook ANY false", "api app /api/x GET,POST false", "page app /orders/[id] GET false", "page pages /placements/tab GET true", "page pages /reports GET false",
    ]);
    expect(discoverServerActions(root)).toEqual(["lib/act.ts"]);
  });

  it("has no server actions the suite does not attack", () => {
    expect(discoverServerActions()).toEqual([]); // a "use server" function is a POST endpoint: add it to ATTACKS first
  });
});

// How each API route (route handlers that render HTML included) is meant to be reached. "admin"/"session" routes
// get the full session attack, pointed at both portals' objects; "crossStatus" is the answer when portal A's admin
// points at portal B's; "proof" shows the same request works on A's own objects (it reaches A, shows A's data, or
// writes A's rows). Each portal's data carries its own markers (MARKS), so portal B's cannot pass unnoticed.
type Objects = { portal: number; pendingId: string; changeId: string; recordId: number };
type Guarded = { access: "admin" | "session"; via?: "bearer" | "st"; request: (o: Objects) => SendOptions; crossStatus: number; proof: "rest" | "content" | "write" };
const MARKS = (i: number) => [`private-old-${i}`, `private-new-${i}`, `"processed":${7770 + i}`];
type Attack = Guarded | { access: "frame" | "bitrix" | "public" | "http-only"; why: string };
const own = (o: Objects) => ({ portalId: portals[o.portal]!.id, member_id: portals[o.portal]!.memberId });
const record = (o: Objects): SendOptions => ({ method: "GET", via: "st", query: `?entity=deal&id=${o.recordId}&portalId=${own(o).portalId}` });
const ATTACKS: Record<string, Attack> = {
  "/api/admin/rebind": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "rest" },
  "/api/admin/diagnostics": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "rest" },
  "/api/admin/backfill": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "write" },
  "/api/admin/progress": { access: "admin", request: (o) => ({ method: "GET", query: `?portalId=${own(o).portalId}&member_id=${own(o).member_id}` }), crossStatus: 200, proof: "content" },
  "/api/admin/pending/[id]": { access: "admin", request: (o) => ({ params: { id: o.pendingId } }), crossStatus: 404, proof: "rest" },
  "/api/admin/rest-log": {
    access: "admin", crossStatus: 200, proof: "content",
    // The marked call of the beforeAll below, on a page of its own whatever other tests called meanwhile.
    request: (o) => ({
      method: "GET", query: `?method=crm.deal.list&portalId=${own(o).portalId}&member_id=${own(o).member_id}`,
    }),
  },
  // Any session may revert: the write goes with the user's own rights (employee-frame.test.ts shows the refusals).
  "/api/history/revert": { access: "session", request: (o) => ({ body: { changeId: o.changeId, overwrite: true } }), crossStatus: 404, proof: "rest" },
  "/api/history/export": { access: "session", request: (o) => ({ body: { entity: "deal", id: o.recordId, ...own(o) } }), crossStatus: 200, proof: "rest" },
  "/placements/tab": { access: "session", request: record, crossStatus: 200, proof: "content" },
  "/placements/widget": { access: "session", request: record, crossStatus: 200, proof: "content" },
  "/api/auth/frame": { access: "frame", why: "issues a session from the frame's auth: attacked below with another portal's AUTH_ID" },
  "/bitrix/app": { access: "frame", why: "frame hand-off: attacked below" },
  "/bitrix/placement": { access: "frame", why: "frame hand-off: attacked below" },
  "/api/bitrix/events": { access: "bitrix", why: "application_token: attacked below and in lifecycle-events.test.ts" },
  "/api/bitrix/install": { access: "bitrix", why: "OAuth exchange of the refresh token and an admin check: attacked below and in lifecycle-install.test.ts" },
  "/api/health": { access: "public", why: "liveness" },
  "/api/ping": { access: "public", why: "liveness, benchmark baseline" },
  "/api/metrics": { access: "public", why: "Prometheus scrape (protect at the network edge); carries no identities or secrets, checked below" },
  "/assets/b24jssdk.js": { access: "public", why: "the Bitrix24 JS SDK bundle, static" },
};
const apis = discoverRoutes().filter((r) => r.kind === "api");
const guarded = apis.flatMap((r) => { const a = ATTACKS[r.path]; return a && "crossStatus" in a ? [[r.path, a] as const] : []; });

describe("every API route is known and attacked", () => {
  it.each(apis.map((r) => [r.path, r] as const))("%s has an attack plan that matches what its code reads", (_p, route) => {
    const attack = ATTACKS[route.path];
    expect(attack, `${route.file} is a new API route: add it to ATTACKS in tests/integration/security.test.ts`).toBeDefined();
    if (route.reads.session) expect(["admin", "session"], `${route.file} reads a session`).toContain(attack!.access);
    if (attack!.access === "admin") expect(route.reads.admin, `${route.file} must check the admin flag`).toBe(true);
  });
});

describe("sessions: missing, forged, non-admin and cross-portal", () => {
  const objects: Objects[] = [];
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const i of [A, B]) {
      const p = portals[i]!;
      const pending = await getDb().pendingCall.create({ data: { portalId: p.id, method: "crm.deal.get", params: { id: 1 }, tokenHash: "x", expiresAt: new Date(Date.now() + 3600_000) } });
      const change = await getDb().fieldChange.create({ data: { portalId: p.id, entityType: "deal", entityId: 3 + i, field: "TITLE", oldValue: `private-old-${i}`, newValue: `private-new-${i}`, changedById: 2, changedAt: new Date() } });
      objects[i] = { portal: i, pendingId: pending.id, changeId: String(change.id), recordId: 3 + i };
      await (await bitrixFor(p.id)).call("crm.deal.list", { filter: { TITLE: `private-new-${i}` } }); // REST log mark
    }
    await flushRestLog();
    [tokens.adminA, tokens.userA] = [await sessionFor(A, 1), await sessionFor(A, 2)];
    const claims = (await readSessionToken(tokens.adminA))!;
    tokens.otherSecret = await encode({ token: { ...claims, sub: "x" }, secret: "a-different-app-secret-0123456789abcdef", maxAge: 600 });
    tokens.expired = await encode({ token: { ...claims, sub: "x" }, secret: process.env.APP_SECRET!, maxAge: -60 });
    tokens.tampered = `${tokens.adminA.slice(0, -3)}${tokens.adminA.slice(-3) === "AAA" ? "BBB" : "AAA"}`;
  });
  beforeEach(async () => {
    for (const i of [A, B]) await getDb().backfillRun.updateMany({ where: { portalId: portals[i]!.id }, data: { processed: 7770 + i } });
  });
  const marked = (text: string, i: number) => MARKS(i).some((m) => text.includes(m));
  const attempt = (p: string, a: Guarded, token: string | null, target: number) => {
    const req = a.request(objects[target]!);
    return send(byPath(p), { ...req, token, via: req.via ?? a.via });
  };

  it.each(guarded)("%s: no, forged or expired session ⇒ 401 and nothing happens on either portal", async (p, attack) => {
    const before = [await footprint(A), await footprint(B)];
    for (const token of [null, "not-a-session", tokens.otherSecret!, tokens.expired!, tokens.tampered!]) {
      for (const target of [A, B]) {
        const res = await attempt(p, attack, token, target);
        expect(res.status).toBe(401);
        const text = await res.text();
        expect(marked(text, A) || marked(text, B)).toBe(false);
      }
    }
    expect([await footprint(A), await footprint(B)]).toEqual(before);
  });

  it.each(guarded.filter(([, a]) => a.access === "admin"))("%s: a non-admin ⇒ 403 and nothing happens", async (p, attack) => {
    const before = [await footprint(A), await footprint(B)];
    expect((await attempt(p, attack, tokens.userA!, A)).status).toBe(403);
    expect([await footprint(A), await footprint(B)]).toEqual(before);
  });

  it.each(guarded)("%s: portal A's admin pointing at portal B's objects is refused; B gets no request and no write", async (p, attack) => {
    const beforeB = await footprint(B);
    const cross = await attempt(p, attack, tokens.adminA!, B);
    const text = await cross.text();
    expect(cross.status, text).toBe(attack.crossStatus);
    expect(marked(text, B), text).toBe(false);
    if (p === "/api/history/export") expect(JSON.parse(text)).toMatchObject({ rows: 0 }); // B's history of that id is not A's
    expect(await footprint(B)).toEqual(beforeB);
    // The same request on A's own objects works: the refusal above is about the portal, not the route.
    const beforeA = await footprint(A);
    const ownRes = await attempt(p, attack, tokens.adminA!, A);
    const ownText = await ownRes.text();
    expect(ownRes.status, ownText).toBe(200);
    if (attack.proof === "rest") expect((await footprint(A)).requests).toBeGreaterThan(beforeA.requests);
    else if (attack.proof === "write") expect((await footprint(A)).rows).not.toEqual(beforeA.rows);
    else expect(marked(ownText, A), ownText).toBe(true);
  });
});

describe("frame auth, hand-off and events of one portal cannot be used for another", () => {
  it.each(["/api/auth/frame", "/bitrix/app", "/bitrix/placement"])("%s: portal B's frame token presented as portal A ⇒ 401, no session, B gets no request", async (p) => {
    const f = await frame(B, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 3 } });
    const beforeB = await footprint(B);
    const variants: Record<string, string>[] = [{ member_id: portals[A]!.memberId }, { member_id: portals[A]!.memberId, APPLICATION_TOKEN: env.state(A).app.applicationToken }];
    // The attacker's own address: failed verifications are limited per portal and client (lib/auth/verify-limit.ts).
    const headers = { "x-forwarded-for": `192.0.2.${p.length}` };
    for (const fields of variants) {
      const input = { AUTH_ID: f.AUTH_ID!, PLACEMENT: f.PLACEMENT!, PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!, ...fields };
      const res = p === "/api/auth/frame" ? await send(byPath(p), { body: input, headers }) : await send(byPath(p), { form: input, query: "?DOMAIN=x&LANG=en", headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).not.toMatch(/"token"/);
    }
    expect(await footprint(B)).toEqual(beforeB);
  });

  it("the hand-off's session token is our own encrypted session: only the user's own short-lived AUTH_ID inside, never visible", async () => {
    const f = await frame(A, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 3 } });
    const res = await send(byPath("/bitrix/placement"), { form: { AUTH_ID: f.AUTH_ID!, member_id: f.member_id!, APPLICATION_TOKEN: f.APPLICATION_TOKEN!, PLACEMENT: f.PLACEMENT!, PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS! }, query: "?DOMAIN=x&LANG=en" });
    expect(res.status, await res.clone().text()).toBe(303);
    const st = new URL(res.headers.get("location")!, "http://app").searchParams.get("st")!;
    const session = (await readSessionToken(st))!;
    expect(session).toMatchObject({ portalId: portals[A]!.id, userId: 1, isAdmin: true });
    // The user's own access token travels encrypted inside (their reads and writes go with their rights, decision 011)
    expect(Object.keys(session).filter((k) => /token|auth|refresh|secret/i.test(k))).toEqual(["userToken"]);
    expect(session.userToken).toBe(f.AUTH_ID);
    expect(JSON.stringify(session)).not.toMatch(new RegExp([f.REFRESH_ID, f.APPLICATION_TOKEN].join("|")));
    const visible = [st, ...st.split(".").map((part) => Buffer.from(part, "base64url").toString("latin1"))].join("\n");
    for (const secret of [f.AUTH_ID!, f.REFRESH_ID!, f.APPLICATION_TOKEN!, portals[A]!.memberId, session.userName]) expect(visible).not.toContain(secret);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("an event with portal B's application_token presented as portal A ⇒ 401, nothing queued", async () => {
    const before = [await footprint(A), await footprint(B)];
    const body = `event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=3&ts=1&auth%5Bmember_id%5D=${portals[A]!.memberId}&auth%5Bapplication_token%5D=${env.state(B).app.applicationToken}`;
    const res = await fetch(`${env.app.url}/api/bitrix/events`, { method: "POST", headers: FORM, body });
    expect(res.status).toBe(401);
    const after = [await footprint(A), await footprint(B)];
    expect(after[1]).toEqual(before[1]);
    const withoutFailures = (rows: string[]) => rows.filter((r) => !r.startsWith("AuthFailure "));
    expect(withoutFailures(after[0]!.rows)).toEqual(withoutFailures(before[0]!.rows)); // only the failure is recorded
    expect(refusals(after[0]!.rows)).toBe(refusals(before[0]!.rows) + 1);
  });

  it("the public routes carry no identity or secret", async () => {
    const text = await (await send(byPath("/api/metrics"))).text();
    expect(text).toMatch(/b24_portals/);
    for (const i of [A, B]) for (const s of [env.portal(i).memberId, env.portal(i).domain, env.state(i).app.applicationToken]) expect(text).not.toContain(s);
    expect(await (await send(byPath("/api/health"))).json()).toEqual({ ok: true });
  });
});

describe("install, reinstall and replays (portal C)", () => {
  const sent: string[] = [];
  const realFetch = globalThis.fetch;
  let oldToken = "", newToken = "";
  beforeAll(() => {
    // Records what the fake Bitrix24 pushes to the app, so the test can replay the exact bodies later.
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      if (String(input instanceof Request ? input.url : input).startsWith(env.app.url) && typeof init?.body === "string") sent.push(init.body);
      return realFetch(input, init);
    });
  });
  afterAll(() => vi.restoreAllMocks());
  const captured = (event: string) => sent.filter((b) => new URLSearchParams(b).get("event") === event).at(-1);
  const post = (route: "events" | "install", body: string) => realFetch(`${env.app.url}/api/bitrix/${route}`, { method: "POST", headers: FORM, body, redirect: "manual" });
  const crmEvent = (token: string, ts: number) => `event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=2&ts=${ts}&auth%5Bmember_id%5D=${env.portal(C).memberId}&auth%5Bapplication_token%5D=${token}`;
  const lifecycle = (event: string, refresh: string, memberId: string, appToken: string) => new URLSearchParams({ event, "data[VERSION]": "1", ts: "1",
    "auth[access_token]": randomBytes(16).toString("hex"), "auth[refresh_token]": refresh, "auth[server_endpoint]": `${env.fake.oauthUrl}/rest/`,
    "auth[client_endpoint]": env.portal(C).clientEndpoint, "auth[member_id]": memberId, "auth[application_token]": appToken }).toString();
  const storedC = () => getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(C).memberId }, omit: { applicationTokenHash: false } });
  const withoutFailures = (rows: string[]) => rows.filter((r) => !r.startsWith("AuthFailure "));
  /** The portal may see the app ask `user.admin` with the presented token — and nothing else. */
  const onlyAdminCheck = (since: number) => {
    const calls = env.state(C).log.slice(since).map((e) => e.rest);
    expect(calls.every((m) => m === "user.admin")).toBe(true);
    return calls.length;
  };

  it("installs from ONAPPINSTALL; after uninstall the reinstall brings a new application_token", async () => {
    expect(((await env.control("install", { mode: "event" }, C)) as { status: number }).status).toBe(200);
    portals[C] = await storedC();
    oldToken = env.state(C).app.applicationToken;
    expect(portals[C]).toMatchObject({ status: "active", applicationTokenHash: sha256Hex(oldToken) });
    expect((await post("events", crmEvent(oldToken, 100))).status).toBe(200);
    await env.control("crm/deal/2", { fields: { TITLE: "before uninstall" } }, C); // ONOFFLINEEVENT, pushed online
    await waitUntil(() => captured("ONOFFLINEEVENT") !== undefined);
    await env.control("uninstall", { clean: false }, C);
    expect(await storedC()).toMatchObject({ status: "uninstalled" });
    // Bitrix24 issues a new application_token with every installation; the fake keeps one per portal, so set it here.
    env.state(C).app.applicationToken = newToken = randomBytes(16).toString("hex");
    expect(((await env.control("install", { mode: "ui", finish: true }, C)) as { status: number }).status).toBe(303);
    expect(await storedC()).toMatchObject({ status: "active", applicationTokenHash: sha256Hex(newToken) });
  });

  it("refuses every body replayed with the old application_token: events, offline notice, uninstall, frame auth", async () => {
    const before = await footprint(C);
    const uninstall = captured("ONAPPUNINSTALL")!;
    const purge = uninstall.replace("CLEAN%5D=0", "CLEAN%5D=1");
    expect(purge).not.toBe(uninstall);
    for (const body of [crmEvent(oldToken, 100), crmEvent(oldToken, 101), captured("ONOFFLINEEVENT")!, uninstall, purge]) expect((await post("events", body)).status).toBe(401);
    const f = await frame(C, 1, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 2 } });
    const stale = { AUTH_ID: f.AUTH_ID!, member_id: f.member_id!, APPLICATION_TOKEN: oldToken, PLACEMENT: f.PLACEMENT!, PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS! };
    expect((await send(byPath("/api/auth/frame"), { body: stale })).status).toBe(401);
    expect((await send(byPath("/bitrix/placement"), { form: stale, query: "?DOMAIN=x" })).status).toBe(401);
    const after = await footprint(C);
    expect(withoutFailures(after.rows)).toEqual(withoutFailures(before.rows)); // still installed, data and tokens intact
    expect(refusals(after.rows) - refusals(before.rows)).toBe(7);
    expect((await post("events", crmEvent(newToken, 102))).status).toBe(200); // the new token works
  });

  it("a replayed ONAPPINSTALL of the first installation does not bring the old identity back", async () => {
    const before = await footprint(C);
    const res = await post("install", captured("ONAPPINSTALL")!);
    expect(res.status).toBeLessThan(500);
    expect(await footprint(C)).toEqual(before);
    expect((await storedC()).applicationTokenHash).toBe(sha256Hex(newToken));
  });

  it.each([
    ["a forged ONAPPINSTALL", "install", "ONAPPINSTALL", async () => randomBytes(16).toString("hex")],
    ["a forged ONAPPUPDATE", "events", "ONAPPUPDATE", async () => randomBytes(16).toString("hex")],
    ["ONAPPINSTALL with portal B's valid refresh token", "install", "ONAPPINSTALL", async () => (await frame(B, 1)).REFRESH_ID!],
    ["ONAPPUPDATE with portal B's valid refresh token", "events", "ONAPPUPDATE", async () => (await frame(B, 1)).REFRESH_ID!],
    ["ONAPPINSTALL with a non-admin user's own refresh token", "install", "ONAPPINSTALL", async () => (await frame(C, 2)).REFRESH_ID!],
    ["ONAPPUPDATE with a non-admin user's own refresh token", "events", "ONAPPUPDATE", async () => (await frame(C, 2)).REFRESH_ID!],
  ] as const)("%s cannot take over portal C's application_token or tokens", async (_name, route, event, refresh) => {
    const before = [await footprint(C), await footprint(B)];
    const res = await post(route, lifecycle(event, await refresh(), env.portal(C).memberId, "attacker-chosen-token"));
    expect([401, 403]).toContain(res.status);
    expect([await footprint(C), await footprint(B)]).toEqual(before.map((f, i) => (i === 0 ? { ...f, requests: f.requests + onlyAdminCheck(before[0]!.requests) } : f)));
    expect((await post("events", crmEvent(newToken, 200 + sent.length))).status).toBe(200);
  });

  it("the installer form with a non-admin user's frame auth cannot reinstall the app over the admin's", async () => {
    const before = await footprint(C);
    const f = await frame(C, 2);
    const res = await post("install", new URLSearchParams({ AUTH_ID: f.AUTH_ID!, REFRESH_ID: f.REFRESH_ID!, member_id: f.member_id!, APPLICATION_TOKEN: "attacker-chosen-token", SERVER_ENDPOINT: f.SERVER_ENDPOINT!, PLACEMENT: "DEFAULT" }).toString());
    expect(res.status).toBe(403);
    expect(await footprint(C)).toEqual({ ...before, requests: before.requests + onlyAdminCheck(before.requests) });
  });
});

describe("tokens at rest", () => {
  it("no table holds an OAuth token, application_token or secret in plaintext, after install, refresh and every flow above", async () => {
    await env.control("tokens/expire", {}, A);
    const refreshes = env.state(A).counters.refreshes;
    await (await bitrixFor(portals[A]!.id)).call("user.current"); // expired_token → refresh → new pair stored
    expect(env.state(A).counters.refreshes).toBe(refreshes + 1);
    remember();
    const client = new pg.Client({ connectionString: await testDatabaseUrl() });
    await client.connect();
    const dump: string[] = [];
    try {
      const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
      for (const { tablename } of rows) dump.push(...(await client.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM "${tablename}" t`)).rows.map((r) => `${tablename} ${r.r}`));
    } finally {
      await client.end();
    }
    const text = dump.join("\n");
    expect(text).toContain(portals[C]!.memberId); // the dump does see the data
    expect(text).toMatch(/"accessTokenEnc":"v1\./);
    const stored = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: portals[A]!.id } });
    expect(seen.has(decryptSecret(stored.accessTokenEnc))).toBe(true); // the token the fake issued, encrypted
    expect(seen.size).toBeGreaterThan(20);
    const leaks = [...seen, ...secrets()].filter((s) => text.includes(s));
    expect(leaks).toEqual([]);
  });

  it("decrypting with a different APP_SECRET fails", async () => {
    const stored = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: portals[A]!.id } });
    const right = process.env.APP_SECRET!;
    const wrong = "a-different-app-secret-0123456789abcdef";
    try {
      process.env.APP_SECRET = wrong;
      resetEnvForTests();
      resetKeysForTests();
      expect(() => decryptSecret(stored.accessTokenEnc)).toThrow(/no key for key id/);
      // Even told which key id to use, a key derived from another secret does not authenticate the ciphertext.
      const [, kid, iv, tag, ct] = stored.refreshTokenEnc.split(".") as [string, string, string, string, string];
      const decipher = createDecipheriv("aes-256-gcm", Buffer.from(hkdfSync("sha256", wrong, "b24-app", "token-encryption-v1", 32)), Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      expect(() => Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()])).toThrow(/authenticate/);
    } finally {
      process.env.APP_SECRET = right;
      resetEnvForTests();
      resetKeysForTests();
    }
    expect(seen.has(decryptSecret(stored.refreshTokenEnc))).toBe(true);
  });
});
