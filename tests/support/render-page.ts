// Renders an App Router page of the CRM placements in-process, as Next.js answers it: proxy.ts first (the request
// headers it sets, the status of its rewrite — 400 for a malformed address), then the page: the status of the
// interrupt it throws (notFound/forbidden/unauthorized → the boundary file of app/placements), else the proxy's or
// 200, and the server-rendered HTML. next/headers is given the request's headers as the proxy passes them on.
import path from "node:path";
import { createElement, type ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { NextRequest } from "next/server";
import { vi } from "vitest";
import type { HistoryRow } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BOUNDARY: Record<number, string> = { 401: "unauthorized", 403: "forbidden", 404: "not-found" };
let current = new Headers();

vi.mock("next/headers", () => ({
  headers: async () => current,
  cookies: async () => {
    const jar = new Map(
      (current.get("cookie") ?? "")
        .split(/;\s*/)
        .filter(Boolean)
        .map((c) => {
          const i = c.indexOf("=");
          return [c.slice(0, i), c.slice(i + 1)] as const;
        }),
    );
    return { get: (name: string) => (jar.has(name) ? { name, value: jar.get(name)! } : undefined) };
  },
}));
// next.config.mjs enables experimental.authInterrupts; Next.js compiles it into this flag.
process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = "true";

type Page = (p: { searchParams: Promise<Record<string, string>> }) => Promise<ReactElement> | ReactElement;

/** GET `url` (a path under app/, e.g. /placements/tab?…) as the browser would, with the given request headers. */
export async function renderPage(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const u = new URL(url, "http://app");
  // What Next.js does with the proxy's answer: its request-header overrides (x-middleware-override-headers names them,
  // x-middleware-request-<name> carries each) reach the page; a rewrite's status is the page's unless it interrupts.
  const { proxy } = await import("@/proxy");
  const res = await proxy(new NextRequest(u, { headers }));
  current = new Headers(headers);
  for (const name of (res.headers.get("x-middleware-override-headers") ?? "").split(",").filter(Boolean)) {
    const v = res.headers.get(`x-middleware-request-${name}`);
    if (v === null) current.delete(name);
    else current.set(name, v);
  }
  const mod = (await import(path.join(ROOT, "app", u.pathname, "page.tsx"))) as { default: Page };
  const searchParams = Promise.resolve(Object.fromEntries(u.searchParams));
  let status = res.headers.has("x-middleware-rewrite") ? res.status : 200;
  let tree: ReactElement;
  try {
    tree = await mod.default({ searchParams });
  } catch (e) {
    const digest = (e as { digest?: string }).digest ?? "";
    const m = /^NEXT_HTTP_ERROR_FALLBACK;(\d+)$/.exec(digest);
    if (!m) throw e;
    status = Number(m[1]);
    const file = path.join(ROOT, "app", path.dirname(u.pathname), `${BOUNDARY[status]}.tsx`);
    const boundary = (await import(file)) as { default: () => Promise<ReactElement> };
    tree = await boundary.default();
  }
  const body = `<!DOCTYPE html>${renderToStaticMarkup(createElement("html", null, createElement("body", null, tree)))}`;
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

/** The history table alone, as the tab renders it. */
export async function tableHtml(rows: HistoryRow[], lang: "en" | "ru", canRevert: boolean): Promise<string> {
  const { HistoryTable } = await import("@/components/placements/history-view");
  return renderToStaticMarkup(createElement(HistoryTable, { rows, t: dict(lang), lang, canRevert }));
}
