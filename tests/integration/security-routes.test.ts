import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { discoverRoutes, discoverServerActions } from "../support/routes";
import { ATTACKS } from "../support/security-attacks";

// Threat: a route nobody attacks. Every API route found on disk must have an attack plan (tests/support/
// security-attacks.ts) that matches what its code reads; the page routes are attacked over HTTP in
// tests/e2e/security.spec.ts. The other security suites: security-sessions, security-frames-events,
// security-install-replays, security-tokens-at-rest (docs/security.md).
describe("route enumeration", () => {
  it("finds App Router handlers and pages, and server actions; refuses a Pages Router directory", () => {
    const root = mkdtempSync(path.join(tmpdir(), "routes-"));
    const put = (rel: string, src: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), src);
    };
    put("app/(shop)/orders/[id]/page.tsx", "export default function P() { return null }");
    put("app/api/x/route.ts", "export async function POST() {}\nexport const GET = () => 1;");
    put("app/_private/page.tsx", "");
    put("lib/act.ts", '"use server";\nexport async function a() {}');
    expect(discoverRoutes(root).map((r) => `${r.kind} ${r.path} ${r.methods.join(",")} ${r.reads.session}`)).toEqual([
      "api /api/x GET,POST false",
      "page /orders/[id] GET false",
    ]);
    expect(discoverServerActions(root)).toEqual(["lib/act.ts"]);
    // The app is App Router only: a Pages Router route would escape the attack tables, so discovery refuses one.
    put("pages/api/hook.ts", "export default function h() {}");
    expect(() => discoverRoutes(root)).toThrow(/Pages Router/);
  });

  it("has no server actions the suite does not attack", () => {
    expect(discoverServerActions()).toEqual([]); // a "use server" function is a POST endpoint: add it to ATTACKS first
  });
});

const apis = discoverRoutes().filter((r) => r.kind === "api");

describe("every API route is known and attacked", () => {
  const each = it.each(apis.map((r) => [r.path, r] as const));
  each("%s has an attack plan that matches what its code reads", (_p, route) => {
    const attack = ATTACKS[route.path];
    expect(
      attack,
      `${route.file} is a new API route: add it to ATTACKS in tests/support/security-attacks.ts`,
    ).toBeDefined();
    if (route.reads.session) expect(["admin", "session"], `${route.file} reads a session`).toContain(attack!.access);
    if (attack!.access === "admin") expect(route.reads.admin, `${route.file} must check the admin flag`).toBe(true);
  });
});
