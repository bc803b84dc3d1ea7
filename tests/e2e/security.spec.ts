import { createDecipheriv, hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import pg from "pg";
import { discoverRoutes, fillPath } from "../support/routes";

// No secret reaches the browser or a log line, and every HTML page may be framed only by its session's portal.
// Pages are found on disk (tests/support/routes.ts) and fetched over HTTP from the production build, whichever
// router serves them; the API routes are attacked in-process by tests/integration/security-*.test.ts.

const app = () => process.env.E2E_APP_URL!;
const portalUrl = (i: number) => (i === 0 ? process.env.E2E_PORTAL_URL! : process.env.E2E_PORTAL2_URL!);
const stack = () =>
  JSON.parse(process.env.E2E_STACK_SECRETS ?? "{}") as {
    APP_SECRET: string;
    BITRIX_CLIENT_SECRET: string;
    DATABASE_URL: string;
  };
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function control<T = Record<string, unknown>>(
  i: number,
  route: string,
  body: unknown = {},
  method = "POST",
): Promise<T> {
  const res = await fetch(`${portalUrl(i)}/_fake/${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: method === "GET" ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}
/**
 * Requests a page view could make to a portal: everything but the worker's own background reads and queue work
 * (capture, product rows, backfill of every type, stage history, reconciliation, the offline queue), which go on for
 * portal B on their own while A's pages are opened.
 */
const BACKGROUND =
  /^(batch|crm\.[a-z.]*\.(list|fields)|crm\.item\.(list|fields|productrow\.list)|crm\.(status|category|type|stagehistory)\.list|user\.get|event\.offline\.[a-z]+|app\.info|feature\.get|method\.get|scope|event\.get|placement\.get)$/i;
const requestsTo = async (i: number) =>
  (await control<{ rest?: string }[]>(i, "log", undefined, "GET")).filter((e) => !BACKGROUND.test(e.rest ?? "")).length;

// ---- what counts as a leak --------------------------------------------------------------------------------------
const bitrixTokens = new Set<string>(); // access, refresh and application tokens, wherever the test saw them
const sessions = new Set<string>(); // our session tokens (`st`): expected in pages, never in logs
const memberIds = new Set<string>();

function remember(fields: Record<string, string | undefined>) {
  for (const k of ["AUTH_ID", "REFRESH_ID", "APPLICATION_TOKEN", "access_token", "refresh_token", "application_token"])
    if (fields[k]) bitrixTokens.add(fields[k]!);
}
async function rememberPortals() {
  for (const i of [0, 1]) {
    const s = await control<{ memberId: string; app: { applicationToken: string } }>(i, "state", undefined, "GET");
    memberIds.add(s.memberId);
    bitrixTokens.add(s.app.applicationToken);
  }
  // The app's own OAuth pair of every portal, as stored (decrypted here with the stack's APP_SECRET).
  const key = Buffer.from(hkdfSync("sha256", stack().APP_SECRET, "b24-app", "token-encryption-v1", 32));
  const open = (box: string) => {
    const [, kid, iv, tag, ct] = box.split(".") as [string, string, string, string, string];
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    d.setAAD(Buffer.from(kid));
    d.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8");
  };
  const db = new pg.Client({ connectionString: stack().DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ a: string; r: string }>(
      `SELECT "accessTokenEnc" AS a, "refreshTokenEnc" AS r FROM "TokenSet"`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) [open(row.a), open(row.r)].forEach((t) => bitrixTokens.add(t));
  } finally {
    await db.end();
  }
}
function ourSecrets(): string[] {
  const s = stack().APP_SECRET;
  const keys = [
    hkdfSync("sha256", s, "b24-app", "token-encryption-v1", 32),
    hkdfSync("sha256", s, "", "NextAuth.js Generated Encryption Key", 32),
  ].map((k) => Buffer.from(k));
  return [
    s,
    stack().BITRIX_CLIENT_SECRET,
    ...keys.flatMap((k) => [k.toString("hex"), k.toString("base64"), k.toString("base64url")]),
  ];
}
/**
 * The offline queue's own ids, as the admin page's REST log shows a drain's request and answer: `process_id` (the
 * claim) and `MESSAGE_ID` (the queued object), 32-hex like a token but no credential — event.offline.clear wants the
 * app's auth beside them (api-reference/events/offline-events/event-offline-get.md, event-offline-clear.md). The
 * CI run of 2026-12-02 on 5527cbd rendered a drain's pair there; its key names it, so only a value so named passes.
 */
const QUEUE_ID = /(?:process_id|MESSAGE_ID)(?:\\?"|&quot;)\s*:\s*(?:\\?"|&quot;)([0-9a-f]{32})/g;

/** Known secrets, plus any 32-hex string that is not a member_id (the shape of every token the fake issues). */
function leaksIn(text: string, alsoForbidden: Iterable<string> = []): string[] {
  const known = [...bitrixTokens, ...ourSecrets(), ...alsoForbidden].filter((s) => text.includes(s));
  const queueIds = new Set([...text.matchAll(QUEUE_ID)].map((m) => m[1]!));
  const shaped = [...text.matchAll(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g)]
    .map((m) => m[0])
    .filter((h) => !memberIds.has(h) && !queueIds.has(h));
  return [...new Set([...known, ...shaped])];
}

// ---- sessions through the real hand-off -------------------------------------------------------------------------
async function frameAuth(i: number, userId: number, placement = "DEFAULT", options: Record<string, unknown> = {}) {
  const f = await control<Record<string, string>>(i, "frame-auth", { userId, placement, options });
  remember(f);
  return f;
}
async function handoff(i: number, userId: number, placement = "DEFAULT", options: Record<string, unknown> = {}) {
  const f = await frameAuth(i, userId, placement, options);
  const route = placement === "DEFAULT" ? "app" : "placement";
  const res = await fetch(`${app()}/bitrix/${route}?DOMAIN=${f.DOMAIN}&LANG=en`, {
    method: "POST",
    headers: FORM,
    redirect: "manual",
    body: new URLSearchParams({
      AUTH_ID: f.AUTH_ID!,
      REFRESH_ID: f.REFRESH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      PLACEMENT: placement,
      PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  const st = new URL(res.headers.get("location")!, app()).searchParams.get("st")!;
  sessions.add(st);
  expect(bitrixTokens.has(st)).toBe(false);
  expect(JSON.parse(Buffer.from(st.split(".")[0]!, "base64url").toString())).toMatchObject({
    alg: "dir",
    enc: "A256GCM",
  }); // encrypted, ours
  return { st, cookie: res.headers.get("set-cookie") ?? "", location: res.headers.get("location")! };
}

// ---- the page routes --------------------------------------------------------------------------------------------
type PagePlan = { session: "admin" | "any" | "none" | "signed"; query?: (recordId: number) => string };
const PAGES: Record<string, PagePlan> = {
  "/": { session: "none" },
  "/admin": { session: "admin" },
  "/audit": { session: "admin" }, // the admins' Audit page (app/audit), behind the same gate as /admin
  "/install/finish": { session: "signed" }, // reached by the installer's 303 with a signed portal id
  "/placements/tab": { session: "any", query: (id) => `entity=deal&id=${id}` },
  "/placements/widget": { session: "any", query: (id) => `entity=deal&id=${id}` },
};
const PLACEHOLDERS = { id: "1" };

async function htmlRoutes(): Promise<string[]> {
  const out: string[] = [];
  for (const r of discoverRoutes().filter((x) => x.methods.includes("GET"))) {
    const res = await fetch(`${app()}${fillPath(r.path, PLACEHOLDERS)}`, { redirect: "manual" });
    if (r.kind === "page" || (res.headers.get("content-type") ?? "").includes("text/html")) out.push(r.path);
  }
  return out;
}

const get = (path: string, o: { st?: string; cookie?: string } = {}) => {
  const url = new URL(path, app());
  if (o.st) url.searchParams.set("st", o.st);
  return fetch(url, { redirect: "manual", headers: o.cookie ? { cookie: o.cookie } : {} });
};
const csp = (res: Response) => res.headers.get("content-security-policy");

test.beforeAll(() => rememberPortals());

test("every page found on disk is known; without a session it shows nothing and may be framed by nobody", async () => {
  const pages = await htmlRoutes();
  expect(pages).toEqual(expect.arrayContaining(["/admin", "/placements/tab", "/placements/widget"])); // the discovery works
  for (const p of pages) {
    const plan = PAGES[p];
    expect(plan, `${p} is a new page: add it to PAGES in tests/e2e/security.spec.ts`).toBeDefined();
    for (const st of [undefined, "forged.session.token"]) {
      const res = await get(`${fillPath(p, PLACEHOLDERS)}?${plan!.query?.(1) ?? ""}`, { st });
      const body = await res.text();
      expect(csp(res), `${p} without a session`).toBe("frame-ancestors 'none'");
      expect(leaksIn(body), p).toEqual([]);
      if (plan!.session === "admin" || plan!.session === "any")
        expect(res.status === 401 || /role="alert"/.test(body), `${p} without a session answers ${res.status}`).toBe(
          true,
        );
    }
  }
});

test("with a session every page is framed only by its portal, and portal A's session never shows portal B's data", async () => {
  const privateB = `b-private-${Date.now()}`;
  await control(1, "crm/deal/5", { fields: { TITLE: privateB }, userId: 2 });
  const b = await handoff(1, 1);
  // B's own tab shows the edit once the worker has captured it: what A must not see below.
  await expect
    .poll(async () => (await (await get("/placements/tab?entity=deal&id=5", { st: b.st })).text()).includes(privateB), {
      timeout: 60_000,
    })
    .toBe(true);
  const a = { admin: await handoff(0, 1), user: await handoff(0, 2) };
  const stateB = await control<{ memberId: string; domain: string }>(1, "state", undefined, "GET");
  for (const [p, plan] of Object.entries(PAGES).filter(([, x]) => x.session === "admin" || x.session === "any")) {
    const path = `${p}?${plan.query?.(5) ?? ""}&member_id=${stateB.memberId}&DOMAIN=${stateB.domain}`;
    for (const who of ["admin", "user"] as const) {
      const requestsB = await requestsTo(1);
      for (const res of [await get(path, { st: a[who].st }), await get(path, { cookie: `b24_session=${a[who].st}` })]) {
        const body = await res.text();
        expect(res.status, `${p} as ${who}`).toBe(200);
        expect(csp(res), `${p} as ${who}`).toBe(`frame-ancestors ${portalUrl(0)}`);
        expect(res.headers.get("referrer-policy")).toBe("no-referrer");
        expect(body).not.toContain(privateB);
        expect(body).not.toContain(stateB.domain);
        expect(leaksIn(body), p).toEqual([]);
        if (plan.session === "admin" && who === "user")
          expect(body).toContain("This page is for portal administrators.");
      }
      expect(await requestsTo(1), `portal B received a request while A's ${who} opened ${p}`).toBe(requestsB);
    }
  }
});

test("a malformed placement address answers 400 naming the parameter, after the session check (401 without one)", async () => {
  const { st } = await handoff(0, 1);
  const cases = [
    ["entity=deal&id=abc", "id must be a record id"],
    ["entity=task&id=5", "entity must be deal, contact"],
    ["entity=deal&id=5&from=yesterday", "from must be a date (YYYY-MM-DD)"],
  ] as const;
  for (const p of ["/placements/tab", "/placements/widget"]) {
    for (const [query, named] of cases) {
      const res = await get(`${p}?${query}`, { st });
      const body = await res.text();
      expect(res.status, `${p}?${query}`).toBe(400);
      expect(body, `${p}?${query}`).toContain(`role="alert">Record: ${named}`);
      expect(csp(res)).toBe(`frame-ancestors ${portalUrl(0)}`);
      expect(leaksIn(body), p).toEqual([]);
    }
    expect((await get(`${p}?entity=deal&id=abc`)).status, `${p} without a session`).toBe(401);
  }
});

test("the install finish page carries no secret and may be framed only by the portal that installed", async () => {
  const f = await frameAuth(1, 1);
  const res = await fetch(`${app()}/api/bitrix/install?DOMAIN=${f.DOMAIN}&LANG=en`, {
    method: "POST",
    headers: FORM,
    redirect: "manual",
    body: new URLSearchParams({
      AUTH_ID: f.AUTH_ID!,
      REFRESH_ID: f.REFRESH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      SERVER_ENDPOINT: f.SERVER_ENDPOINT!,
      PLACEMENT: "DEFAULT",
    }),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  const location = res.headers.get("location")!;
  expect(location).toMatch(/^\/install\/finish\?/);
  expect(leaksIn(location)).toEqual([]);
  const page = await get(location);
  const body = await page.text();
  expect(body).toContain("The app is installed.");
  expect(leaksIn(body)).toEqual([]);
  expect(csp(page)).toBe(`frame-ancestors ${portalUrl(1)}`);
  const forged = new URL(location, app());
  for (const [k, v] of forged.searchParams)
    if (k !== "state" && k !== "lang") forged.searchParams.set(k, `${v.slice(0, -2)}xx`);
  expect(csp(await get(`${forged.pathname}${forged.search}`))).toBe("frame-ancestors 'none'");
});

test("every session cookie is HttpOnly; Secure; SameSite=None; Partitioned, and next-auth refuses another portal's frame auth", async () => {
  const attributes = (cookie: string, what: string) => {
    for (const a of [/;\s*HttpOnly/i, /;\s*Secure/i, /;\s*SameSite=None/i, /;\s*Partitioned/i])
      expect(cookie, what).toMatch(a);
  };
  attributes((await handoff(0, 1)).cookie, "/bitrix/app");
  attributes((await handoff(0, 2, "CRM_DEAL_DETAIL_TAB", { ID: 2 })).cookie, "/bitrix/placement");
  const f = await frameAuth(0, 1);
  const renewed = await fetch(`${app()}/api/auth/frame`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ AUTH_ID: f.AUTH_ID, member_id: f.member_id }),
  });
  expect(renewed.status).toBe(200);
  attributes(renewed.headers.get("set-cookie") ?? "", "/api/auth/frame");

  // next-auth's HTTP endpoints are not mounted (the frame POST is the sign-in, decision 011): nothing answers there.
  for (const path of ["/api/auth/csrf", "/api/auth/session", "/api/auth/signin", "/api/auth/callback/bitrix-frame"]) {
    expect((await fetch(`${app()}${path}`)).status, path).toBe(404);
  }
});

test("a full flow at LOG_LEVEL=debug writes no secret into any app log line or rendered page", async ({ page }) => {
  const pages: Promise<string>[] = [];
  page.on("request", (r) => {
    if (r.url().startsWith(app()) && r.method() === "POST")
      remember(Object.fromEntries(new URLSearchParams(r.postData() ?? "")));
  });
  page.on("response", (r) => {
    if (r.url().startsWith(app()) && (r.headers()["content-type"] ?? "").includes("text/html"))
      pages.push(r.text().catch(() => ""));
  });
  await openInPortal(page, "/marketplace/app/?user=1", "Change History — settings");
  await openInPortal(page, "/crm/deal/details/2/?tab=0", "Change history");
  await openInPortal(page, "/crm/deal/details/3/?widget=0", "Recent changes");

  await control(0, "tokens/expire"); // the next call of the app needs a refresh
  const a = await handoff(0, 1);
  const rebind = await fetch(`${app()}/api/admin/rebind`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.st}` },
  });
  expect(rebind.status).toBe(200);
  // Error paths: a forged install, an event with a wrong application_token, a portal error during an export.
  const forged = await fetch(`${app()}/api/bitrix/install`, {
    method: "POST",
    headers: FORM,
    body: new URLSearchParams({
      AUTH_ID: "a".repeat(32),
      REFRESH_ID: "b".repeat(32),
      member_id: "f".repeat(32),
      APPLICATION_TOKEN: "c".repeat(32),
    }),
  });
  expect(forged.status).toBe(401);
  const event = await fetch(`${app()}/api/bitrix/events`, {
    method: "POST",
    headers: FORM,
    body: `event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=2&auth%5Bmember_id%5D=${[...memberIds][0]}&auth%5Bapplication_token%5D=${"0".repeat(32)}`,
  });
  expect(event.status).toBe(401);
  await control(0, "faults", { methodErrors: { "crm.timeline.comment.add": "ERROR_CORE" } });
  try {
    const exported = await fetch(`${app()}/api/history/export`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.st}`, "content-type": "application/json" },
      body: JSON.stringify({ entity: "deal", id: 2 }),
    });
    expect(exported.status).toBe(500);
  } finally {
    await control(0, "faults", { methodErrors: {} });
  }
  await rememberPortals(); // the pair the refresh stored

  const file = process.env.E2E_LOG_FILE!;
  await expect
    .poll(() => readFileSync(file, "utf8").includes("unhandled error in route"), { timeout: 15_000 })
    .toBe(true);
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("[fake-bitrix24]")); // the app's lines
  expect(
    lines.some((l) => l.includes('"level":20')),
    "the app logged at debug level",
  ).toBe(true);
  expect(lines.some((l) => l.includes("tokens refreshed"))).toBe(true);
  expect(lines.flatMap((l) => leaksIn(l, sessions).map((s) => `${s} in: ${l.slice(0, 300)}`))).toEqual([]);
  const rendered = await Promise.all(pages);
  expect(rendered.length).toBeGreaterThanOrEqual(3);
  for (const html of rendered) expect(leaksIn(html)).toEqual([]);
});

async function openInPortal(page: Page, path: string, heading: string) {
  await page.goto(`${portalUrl(0)}${path}`);
  await expect(page.frameLocator("#app-frame").getByRole("heading", { name: heading })).toBeVisible();
  for (const frame of page.frames().filter((f) => f.url().startsWith(app())))
    expect(leaksIn(await frame.content())).toEqual([]);
}
