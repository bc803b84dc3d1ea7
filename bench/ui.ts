// Bench (issues 5 and 16 item 7): the CRM tab inside the fake portal, in Chromium on the production build — its
// first-load JavaScript, and the time from the portal page's navigation to the tab frame's first contentful paint with
// the bytes the frame transferred, on a cold cache (a new browser context each run) and on a warm one (the same
// context, after one visit). Run: `npm run build && npm run bench -- ui`. Knobs: BENCH_UI_RUNS (visits per cache state,
// default 7); BENCH_DATABASE_URL runs the app on a fresh database of that PostgreSQL instead of the embedded one.
import { gzipSync } from "node:zlib";
import { chromium, type Page } from "@playwright/test";
import { startStack } from "../scripts/stack";
import { benchDatabase, type BenchDb } from "./db";
import { CHROMIUM_LAUNCH } from "../tests/support/chromium";
import { fmt, percentile, type BenchRow } from "./table";

interface Visit {
  fcp: number;
  jsBytes: number;
  allBytes: number;
  portalCalls: number;
  /** ms from the portal page's navigation start: the frame's POST begins, its 303 is followed, the HTML arrives */
  frameStart: number;
  redirected: number;
  firstByte: number;
  html: number;
}

type LogEntry = { n: number; at: number; rest?: string };
const portalLog = async (portalUrl: string, since: number) =>
  (await (await fetch(`${portalUrl}/_fake/log?since=${since}`)).json()) as LogEntry[];

/**
 * One visit of a deal's Change history tab: the frame's first contentful paint from the portal page's navigation start
 * (both clocks absolute through timeOrigin: what a user sees, not when a polling locator noticed it), and what the
 * frame transferred by its own Resource Timing (`transferSize` is 0 for what came from the cache; the frame's
 * resources are of its own origin, so the sizes are not hidden).
 */
async function visit(page: Page, portalUrl: string): Promise<Visit> {
  // The portal's REST requests that came before the tab's HTML was answered (the sign-in's and the page's own checks):
  // each costs the portal's latency before anything can be painted. Same machine, same clock.
  const since = (await portalLog(portalUrl, 0)).at(-1)?.n ?? 0;
  let htmlAt = 0;
  const onResponse = (r: { url(): string }) => {
    if (!htmlAt && new URL(r.url()).pathname === "/placements/tab") htmlAt = Date.now();
  };
  page.on("response", onResponse);
  await page.goto(`${portalUrl}/crm/deal/details/1/?tab=0`);
  await page.frameLocator("#app-frame").getByRole("heading", { name: "Change history" }).first().waitFor();
  const topOrigin = await page.evaluate(() => performance.timeOrigin);
  const frame = page.frames().find((f) => f.url().includes("/placements/tab"))!;
  // Strings, not functions: tsx's helpers (__name) do not exist inside the page.
  const fcp = (await frame.evaluate(`new Promise((resolve) => (function poll() {
    const e = performance.getEntriesByName("first-contentful-paint")[0];
    e ? resolve(performance.timeOrigin + e.startTime) : setTimeout(poll, 20);
  })())`)) as number;
  await page.waitForLoadState("networkidle");
  // Where the time went, on the top page's clock: the frame's navigation start (the portal page has built its form
  // POST), the sign-in POST's answer (its 303), the tab HTML's first byte and its last.
  const phases = (await frame.evaluate(`(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const at = (t) => Math.round(performance.timeOrigin + t);
    return { start: at(0), redirected: at(n.redirectEnd || n.fetchStart), firstByte: at(n.responseStart),
      html: at(n.responseEnd) };
  })()`)) as Record<"start" | "redirected" | "firstByte" | "html", number>;
  const bytes = (await frame.evaluate(`(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const res = performance.getEntriesByType("resource");
    const js = res.filter((r) => r.initiatorType === "script" || /\\.js(\\?|$)/.test(r.name));
    const sum = (xs) => xs.reduce((s, r) => s + (r.transferSize || 0), 0);
    return { js: sum(js), all: sum(res) + (nav ? nav.transferSize || 0 : 0) };
  })()`)) as { js: number; all: number };
  page.off("response", onResponse);
  const portalCalls = (await portalLog(portalUrl, since)).filter((e) => e.rest && e.at <= htmlAt).length;
  const rel = (t: number) => Math.round(t - topOrigin);
  return {
    fcp: Math.round(fcp - topOrigin),
    jsBytes: bytes.js,
    allBytes: bytes.all,
    portalCalls,
    frameStart: rel(phases.start),
    redirected: rel(phases.redirected),
    firstByte: rel(phases.firstByte),
    html: rel(phases.html),
  };
}

const PHASES = ["frameStart", "redirected", "firstByte", "html", "fcp"] as const;
const kb = (n: number) => `${fmt(n / 1024, 1)} KB`;
const p50max = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), max: s.at(-1)! };
};

export async function benchUi(runs = Number(process.env.BENCH_UI_RUNS ?? 7)): Promise<BenchRow[]> {
  const db: BenchDb | null = process.env.BENCH_DATABASE_URL ? await benchDatabase("ui", "PostgreSQL") : null;
  try {
    return await benchUiOn(runs, db);
  } finally {
    await db?.stop();
  }
}

async function benchUiOn(runs: number, db: BenchDb | null): Promise<BenchRow[]> {
  // BENCH_PORT_SHIFT moves the three fixed ports together (a second checkout's run beside this one), as E2E_PORT_SHIFT.
  const shift = Number(process.env.BENCH_PORT_SHIFT ?? 0);
  const stack = await startStack({
    mode: "prod",
    appPort: 3300 + shift,
    portalPort: 4300 + shift,
    oauthPort: 4310 + shift,
    portals: 1,
    deals: 50,
    latency: "100-300",
    ephemeralDb: true,
    ...(db ? { databaseUrl: db.url } : {}),
    log: () => {},
  });
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  const portalUrl = stack.portalUrls[0]!;
  try {
    const cold: Visit[] = [];
    let jsGzip = 0;
    let jsFiles = 0;
    let lazyGzip = 0;
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const bodies: Promise<{ url: string; body: Buffer | null }>[] = [];
      let tabHtml: Promise<string> | null = null;
      if (i === 0)
        page.on("response", (r) => {
          if (!r.url().startsWith(stack.appUrl)) return;
          if (r.request().resourceType() === "script")
            bodies.push(
              r.body().then(
                (body) => ({ url: r.url(), body }),
                () => ({ url: r.url(), body: null }),
              ),
            );
          if (new URL(r.url()).pathname === "/placements/tab") tabHtml = r.text();
        });
      cold.push(await visit(page, portalUrl));
      if (i === 0) {
        // First-load JS = the scripts the tab's HTML (as served, not the DOM after scripts ran) references; what
        // loads later (b24jssdk, after the first render) is counted apart.
        const html = (await tabHtml) ?? "";
        const all = (await Promise.all(bodies)).filter((b) => b.body !== null);
        const initial = all.filter((b) => html.includes(new URL(b.url).pathname));
        jsFiles = initial.length;
        jsGzip = initial.reduce((s, b) => s + gzipSync(b.body!).length, 0);
        lazyGzip = all.filter((b) => !initial.includes(b)).reduce((s, b) => s + gzipSync(b.body!).length, 0);
      }
      await context.close();
    }
    // Warm: one context visits once (its cache filled), then `runs` more visits are measured.
    const context = await browser.newContext();
    const page = await context.newPage();
    await visit(page, portalUrl);
    const warm: Visit[] = [];
    for (let i = 0; i < runs; i++) warm.push(await visit(page, portalUrl));
    await context.close();
    // Baseline in the same run: an empty App Router page of the same build (no client code of ours) = the framework floor.
    const floorContext = await browser.newContext();
    const floorPage = await floorContext.newPage();
    const floorBodies: Promise<{ url: string; body: Buffer | null }>[] = [];
    floorPage.on("response", (r) => {
      if (r.request().resourceType() === "script")
        floorBodies.push(
          r.body().then(
            (body) => ({ url: r.url(), body }),
            () => ({ url: r.url(), body: null }),
          ),
        );
    });
    await floorPage.goto(stack.appUrl);
    await floorPage.waitForLoadState("networkidle");
    const floorGzip = (await Promise.all(floorBodies)).reduce((s, b) => s + (b.body ? gzipSync(b.body).length : 0), 0);
    const floorJs = (await floorPage.evaluate(
      `performance.getEntriesByType("resource").filter((r) => r.initiatorType === "script").reduce((s, r) => s + (r.transferSize || 0), 0)`,
    )) as number;
    await floorContext.close();
    const c = p50max(cold.map((v) => v.fcp));
    const w = p50max(warm.map((v) => v.fcp));
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    return [
      {
        bench: "5 UI (tab)",
        metric: "first-load JS, gzip",
        value: `${kb(jsGzip)} in ${jsFiles} files`,
        baseline: `target ≤ 120 KB; empty App Router page ${kb(floorGzip)}`,
        note: `+ ${kb(lazyGzip)} loaded after the first render (b24jssdk)`,
      },
      {
        bench: "16 UI (tab)",
        metric: `FCP, cold cache, p50 / max (${runs} runs)`,
        value: `${c.p50} / ${c.max} ms`,
        baseline: "portal REST latency 100–300 ms",
        note: "portal page navigation → the tab frame's first contentful paint; a new browser context each run",
      },
      {
        bench: "16 UI (tab)",
        metric: `FCP, warm cache, p50 / max (${runs} runs)`,
        value: `${w.p50} / ${w.max} ms`,
        baseline: "target p50 ≤ 500 ms",
        note: `the same context after one visit; ${db ? "PostgreSQL" : "embedded database (PGlite)"}`,
      },
      {
        bench: "16 UI (tab)",
        metric: "warm FCP's parts, p50: frame POST starts / 303 followed / HTML first byte / last byte / FCP",
        value: `${PHASES.map((k) => median(warm.map((v) => v[k]))).join(" / ")} ms`,
        baseline: "from the portal page's navigation start",
        note: "portal page → its form POST (sign-in, 1 portal REST call) → 303 → the tab's server render → paint",
      },
      {
        bench: "16 UI (tab)",
        metric: "portal REST requests before the tab's HTML, cold / warm (p50)",
        value: `${median(cold.map((v) => v.portalCalls))} / ${median(warm.map((v) => v.portalCalls))}`,
        baseline: "each one 100–300 ms here",
        note: "the frame sign-in's batch (token, admin, record rights) and whatever the page itself asks",
      },
      {
        bench: "16 UI (tab)",
        metric: "transferred by the frame, cold: JS / all (p50)",
        value: `${kb(median(cold.map((v) => v.jsBytes)))} / ${kb(median(cold.map((v) => v.allBytes)))}`,
        baseline: `empty App Router page's JS: ${kb(floorJs)}`,
        note: "Resource Timing transferSize (compressed as sent)",
      },
      {
        bench: "16 UI (tab)",
        metric: "transferred by the frame, warm: JS / all (p50)",
        value: `${kb(median(warm.map((v) => v.jsBytes)))} / ${kb(median(warm.map((v) => v.allBytes)))}`,
        baseline: "target JS ≤ 10 KB",
        note: "what the cache did not hold: the page's HTML and its data, the scripts revalidated",
      },
    ];
  } finally {
    await browser.close();
    await stack.stop();
  }
}
