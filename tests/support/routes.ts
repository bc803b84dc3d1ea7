// Route enumeration for the security suites: every App Router route handler and page, and every server action, found
// on disk — so a route added later cannot escape the attack tables in tests/support/security-attacks.ts and
// tests/e2e/security.spec.ts (both fail on a route they do not know). The app is App Router only: a `pages/`
// directory (Next.js would serve its routes too) makes discovery throw rather than miss them.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface DiscoveredRoute {
  /** URL path as Next.js writes it, dynamic segments kept: `/api/admin/pending/[id]` */
  path: string;
  /** "api": answers requests itself (route.ts); "page": renders HTML */
  kind: "api" | "page";
  /** repo-relative */
  file: string;
  /** exported HTTP methods of an API route; ["GET"] for a page */
  methods: string[];
  /** what the source reads to decide who may use it (a cross-check of the attack tables, not a substitute) */
  reads: { session: boolean; admin: boolean };
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const SOURCE = /\.(tsx?|jsx?)$/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

function exportedMethods(src: string): string[] {
  const found = new Set<string>();
  for (const m of METHODS) {
    if (new RegExp(`export\\s+(async\\s+)?(function|const|let)\\s+${m}\\b`).test(src)) found.add(m);
    if (
      new RegExp(`export\\s*\\{[^}]*\\bas\\s+${m}\\b[^}]*\\}`).test(src) ||
      new RegExp(`export\\s*\\{[^}]*\\b${m}\\b[^}]*\\}`).test(src)
    )
      found.add(m);
  }
  return [...found];
}

/**
 * The route's own source plus the local modules it imports (a thin route delegates to lib/), so a session read in a
 * helper counts. lib/auth/ is left out: it defines the guards (and issues sessions), it is not a use of them.
 */
function sourceClosure(root: string, file: string, depth = 3, seen = new Set<string>()): string {
  if (seen.has(file) || !existsSync(file)) return "";
  seen.add(file);
  const src = readFileSync(file, "utf8");
  if (depth === 0) return src;
  const imported = [...src.matchAll(/from\s+["'](@\/[^"']+|\.{1,2}\/[^"']+)["']/g)]
    .map((m) => m[1]!)
    .map((spec) => (spec.startsWith("@/") ? path.join(root, spec.slice(2)) : path.resolve(path.dirname(file), spec)))
    .filter((base) => !path.relative(root, base).startsWith(path.join("lib", "auth")))
    .map((base) =>
      [".ts", ".tsx", "/index.ts", ""].map((ext) => base + ext).find((f) => existsSync(f) && statSync(f).isFile()),
    )
    .filter((f): f is string => Boolean(f));
  return [src, ...imported.map((f) => sourceClosure(root, f, depth - 1, seen))].join("\n");
}

function reads(src: string) {
  return {
    session:
      /requirePortalSession|requirePortalAdmin|getPageSession|readSessionToken|tokenFromRequest|SESSION_COOKIE|getServerSession|getToken\(/.test(
        src,
      ),
    admin: /requirePortalAdmin|isAdmin/.test(src),
  };
}

/** `app/(group)/api/x/[id]/route.ts` → `/api/x/[id]`; null for folders Next.js does not route (`_private`, `@slot`). */
function appUrl(rel: string): string | null {
  const segments = path.dirname(rel).split(path.sep).slice(1);
  if (segments.some((s) => s.startsWith("_") || s.startsWith("@"))) return null;
  const kept = segments.filter((s) => !/^\(.*\)$/.test(s));
  return `/${kept.join("/")}`;
}

export function discoverRoutes(root = ROOT): DiscoveredRoute[] {
  if (existsSync(path.join(root, "pages"))) {
    throw new Error("a Pages Router directory (pages/): its routes would escape the security suites");
  }
  const routes: DiscoveredRoute[] = [];
  for (const full of walk(path.join(root, "app"))) {
    const rel = path.relative(root, full);
    const base = path.basename(rel).replace(SOURCE, "");
    if (!SOURCE.test(rel) || (base !== "route" && base !== "page")) continue;
    const url = appUrl(rel);
    if (url === null) continue;
    const src = readFileSync(full, "utf8");
    const api = base === "route";
    const methods = api ? exportedMethods(src) : ["GET"];
    routes.push({ path: url, kind: api ? "api" : "page", file: rel, methods, reads: reads(sourceClosure(root, full)) });
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.kind.localeCompare(b.kind));
}

/** Files with a `"use server"` directive (server actions are POST endpoints too, reachable by their action id). */
export function discoverServerActions(root = ROOT): string[] {
  return ["app", "components", "lib"]
    .flatMap((d) => walk(path.join(root, d)))
    .filter((f) => SOURCE.test(f) && /^\s*["']use server["']/m.test(readFileSync(f, "utf8")))
    .map((f) => path.relative(root, f))
    .sort();
}

/** `/api/admin/pending/[id]` with { id: "x" } → `/api/admin/pending/x`; catch-alls take a slash-joined value. */
export function fillPath(route: string, params: Record<string, string>): string {
  return route.replace(/\[\[?(?:\.\.\.)?([^\]]+)\]\]?/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for [${name}] in ${route}`);
    return v;
  });
}

/** The params object Next.js hands an App Router handler for this path. */
export function paramsFor(route: string, params: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const m of route.matchAll(/\[\[?(\.\.\.)?([^\]]+)\]\]?/g))
    out[m[2]!] = m[1] ? (params[m[2]!] ?? "").split("/") : (params[m[2]!] ?? "");
  return out;
}
