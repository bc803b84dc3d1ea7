// Shared setup of the security suites (tests/integration/security-*.test.ts, docs/security.md): the app wired to
// three fake portals with limits out of the way, the route handlers called in-process, and a portal's "footprint"
// (every row of it, every request its portal received) to prove that a refused request changed nothing.
import { hkdfSync } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect } from "vitest";
import { flushMetrics } from "@/lib/metrics/bump";
import { installPortal } from "./installed-portal";
import { renderPage } from "./render-page";
import { startAppWithFake } from "./lifecycle-env";
import { discoverRoutes, fillPath, paramsFor, ROOT, type DiscoveredRoute } from "./routes";
import { testDatabaseUrl } from "./test-db";

export type SecurityEnv = Awaited<ReturnType<typeof startAppWithFake>>;
export const A = 0,
  B = 1,
  C = 2;
export const FORM = { "content-type": "application/x-www-form-urlencoded" };

/**
 * Starts the app with three fake portals and installs the `install` ones (A and B by default) before the suite;
 * `s.portals[i]` is portal i's row. Portal C stays for suites that install it themselves.
 */
export function setUpSecurityEnv(install: number[] = [A, B]) {
  const s = { env: undefined as unknown as SecurityEnv, portals: [] as { id: string; memberId: string }[] };
  beforeAll(async () => {
    s.env = await startAppWithFake({ portals: 3 });
    // Limits are not under test: a QUERY_LIMIT_EXCEEDED on a frame check would read as a refusal.
    for (const i of [A, B, C]) await s.env.control("plan", { burst: 100_000, drain: 10_000 }, i);
    for (const i of install) s.portals[i] = await installPortal(s.env, i);
  });
  afterAll(() => s.env.stop());
  return s;
}

/** Every token the fake Bitrix24 ever issued or sent (access, refresh, application_token), added to `seen`. */
export function rememberTokens(env: SecurityEnv, seen: Set<string>) {
  for (const k of [...env.fake.fake.tokens.keys(), ...env.fake.fake.refreshTokens.keys()]) seen.add(k);
  for (const p of env.fake.fake.portals) seen.add(p.app.applicationToken);
}

/** Our own secrets and the keys derived from them (token encryption, next-auth's session encryption). */
export function ownSecrets(): string[] {
  const appSecret = process.env.APP_SECRET!;
  const keys = [
    hkdfSync("sha256", appSecret, "b24-app", "token-encryption-v1", 32),
    hkdfSync("sha256", appSecret, "", "NextAuth.js Generated Encryption Key", 32),
  ].map((k) => Buffer.from(k));
  const encoded = keys.flatMap((k) => [k.toString("hex"), k.toString("base64"), k.toString("base64url")]);
  return [appSecret, process.env.BITRIX_CLIENT_SECRET!, ...encoded];
}

type Handler = (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
export interface SendOptions {
  method?: string;
  token?: string | null;
  via?: "bearer" | "st";
  body?: unknown;
  form?: Record<string, string>;
  params?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
}
/** Calls the route's own handler in-process, as Next.js would. */
export async function send(route: DiscoveredRoute, o: SendOptions = {}) {
  const method = o.method ?? route.methods.find((m) => m !== "GET") ?? "GET";
  const headers: Record<string, string> = { ...o.headers };
  if (o.token && o.via !== "st") headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.form) [body, headers["content-type"]] = [new URLSearchParams(o.form).toString(), FORM["content-type"]];
  else if (o.body !== undefined) [body, headers["content-type"]] = [JSON.stringify(o.body), "application/json"];
  const url = new URL(`http://app${fillPath(route.path, o.params ?? {})}${o.query ?? ""}`);
  if (o.token && o.via === "st") url.searchParams.set("st", o.token);
  // A page (the CRM placements) answers as Next.js renders it: its status from the interrupt it throws.
  if (route.kind === "page") return renderPage(`${url.pathname}${url.search}`, headers);
  const params = Promise.resolve(paramsFor(route.path, o.params ?? {}));
  const mod = (await import(path.join(ROOT, route.file))) as Record<string, Handler>;
  return mod[method]!(new Request(url, { method, headers, body }), { params });
}
/** The route at a path: its API handler, or its page when it has no handler (the CRM placements). */
export const byPath = (p: string) =>
  discoverRoutes()
    .filter((r) => r.path === p)
    .sort((a, b) => a.kind.localeCompare(b.kind))[0]!;

/** The frame's auth the fake would post into the app's iframe for this user of portal i. */
export const frameAuth = async (env: SecurityEnv, i: number, userId = 1, extra: Record<string, unknown> = {}) =>
  (await env.control("frame-auth", { userId, ...extra }, i)) as Record<string, string>;

/** A session token for a user of portal i, signed in through /api/auth/frame. */
export async function sessionFor(env: SecurityEnv, i: number, userId: number): Promise<string> {
  const f = await frameAuth(env, i, userId);
  const res = await send(byPath("/api/auth/frame"), { body: { AUTH_ID: f.AUTH_ID, member_id: f.member_id } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Every row of the portal in every table, as text, plus how many requests its fake portal received. */
export async function footprint(env: SecurityEnv, portalId: string, i: number) {
  await flushMetrics();
  const client = new pg.Client({ connectionString: await testDatabaseUrl() });
  await client.connect();
  try {
    // The REST log mirrors `requests` (each row is a request the portal received), so it is counted there.
    const { rows: tables } = await client.query<{ table_name: string }>(`SELECT table_name
      FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'portalId'
      AND table_name <> 'RestLog' ORDER BY 1`);
    const out: string[] = [];
    for (const { table_name: t } of tables) {
      const sql = `SELECT row_to_json(x)::text AS r FROM "${t}" x WHERE "portalId" = $1 ORDER BY 1`;
      out.push(...(await client.query<{ r: string }>(sql, [portalId])).rows.map((r) => `${t} ${r.r}`));
    }
    const portalRow = `SELECT row_to_json(x)::text AS r FROM "Portal" x WHERE id = $1`;
    out.push(...(await client.query<{ r: string }>(portalRow, [portalId])).rows.map((r) => r.r));
    return { requests: env.state(i).log.length, timeline: env.state(i).timeline.length, rows: out };
  } finally {
    await client.end();
  }
}

/** Refused requests counted in a footprint's AuthFailure rows (one row per portal, reason, route and minute). */
export const refusals = (rows: string[]) =>
  rows
    .filter((r) => r.startsWith("AuthFailure "))
    .reduce((n, r) => n + (JSON.parse(r.slice("AuthFailure ".length)) as { count: number }).count, 0);
export const withoutFailures = (rows: string[]) => rows.filter((r) => !r.startsWith("AuthFailure "));
