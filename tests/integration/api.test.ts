import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELETE as revokeRoute } from "@/app/api/admin/api-tokens/[id]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/admin/api-tokens/route";
import { GET as changesRoute } from "@/app/api/v1/changes/route";
import { RATE_PER_MIN } from "@/lib/api/tokens";
import { getDb } from "@/lib/db";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// The JSON API (issue #17 item 6, docs/api.md): an admin creates a token on the admin page; the token reads its own
// portal's changes, paginated by cursor and rate-limited; revoked, forged or another portal's tokens read nothing.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const portalIds: string[] = [];
const A = 0,
  B = 1;
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [A, B]) {
    await env.control("install", { mode: "ui", finish: true }, i);
    portalIds[i] = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
    const base = Date.parse("2026-03-01T10:00:00Z");
    await getDb().fieldChange.createMany({
      data: Array.from({ length: 25 }, (_, k) => ({
        portalId: portalIds[i]!,
        entityType: k % 2 ? "deal" : "contact",
        entityId: 500 + (k % 3),
        field: k % 5 ? "TITLE" : "OPPORTUNITY",
        oldValue: `old-${i}-${k}`,
        newValue: `new-${i}-${k}`,
        changedById: 1 + (k % 4),
        changedAt: new Date(base + Math.floor(k / 2) * 60_000),
        source: k % 7 ? "event" : "reconciled",
      })),
    });
  }
});
afterAll(() => env.stop());

const admin = async (i: number) => (await frameSession(env.control, 1, null, i)).token;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
async function create(session: string, body: unknown) {
  const res = await createRoute(
    new Request("http://app/api/admin/api-tokens", {
      method: "POST",
      headers: { ...bearer(session), "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function changes(token: string | null, query = "") {
  const res = await changesRoute(
    new Request(`http://app/api/v1/changes${query}`, { headers: token ? bearer(token) : {} }),
  );
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as {
      items: { id: string; newValue: string; changedAt: string; entityType: string }[];
      next: string | null;
      message?: string;
    },
  };
}

describe("API tokens", () => {
  it("an admin creates one and sees it once; the list never shows a token; employees may not", async () => {
    const created = await create(await admin(A), { name: "Power BI" });
    expect(created.status).toBe(201);
    expect(String(created.body.token)).toMatch(/^chb_[A-Za-z0-9_-]{43}$/);
    const stored = await getDb().apiToken.findUniqueOrThrow({ where: { id: String(created.body.id) } });
    expect(stored.tokenHash).not.toContain(String(created.body.token).slice(4, 20)); // only its hash is kept
    const list = await listRoute(new Request("http://app/api/admin/api-tokens", { headers: bearer(await admin(A)) }));
    const text = await list.text();
    expect(text).toContain("Power BI");
    expect(text).not.toContain(String(created.body.token));
    const employee = (await frameSession(env.control, 2, null, A)).token;
    expect((await create(employee, { name: "mine" })).status).toBe(403);
    expect((await create(await admin(A), { name: "" })).status).toBe(400);
    expect((await create(await admin(A), { name: "x", portalId: portalIds[B] })).status).toBe(400);
  });
});

describe("GET /api/v1/changes", () => {
  it("pages through the token's own portal only, newest first, with no gap or repeat", async () => {
    const token = String((await create(await admin(A), { name: "pager" })).body.token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await changes(token, `?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((c) => c.newValue));
      cursor = page.body.next;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen.every((v) => v.startsWith("new-0-"))).toBe(true); // nothing of portal B
    expect(seen[0]).toBe("new-0-24");
  });

  it("filters by record, field, person, source and period", async () => {
    const token = String((await create(await admin(A), { name: "filters" })).body.token);
    const one = await changes(token, "?entityType=deal&entityId=501&field=TITLE");
    expect(one.body.items.length).toBeGreaterThan(0);
    const rows = await getDb().fieldChange.findMany({
      where: { portalId: portalIds[A]!, entityType: "deal", entityId: 501, field: "TITLE" },
    });
    expect(one.body.items.map((c) => c.newValue).sort()).toEqual(rows.map((r) => String(r.newValue)).sort());
    const bySource = await changes(token, "?source=reconciled");
    expect(bySource.body.items.map((c) => c.newValue).sort()).toEqual(["new-0-0", "new-0-14", "new-0-21", "new-0-7"]);
    const byUser = await changes(token, "?userId=2");
    expect(byUser.body.items.every((c) => Number(c.newValue.split("-")[2]) % 4 === 1)).toBe(true);
    const period = await changes(token, "?since=2026-03-01T10:02:00Z&until=2026-03-01T10:04:00Z");
    expect(period.body.items.map((c) => c.newValue).sort()).toEqual(["new-0-4", "new-0-5", "new-0-6", "new-0-7"]);
  });

  it("refuses bad parameters with the parameter named", async () => {
    const token = String((await create(await admin(A), { name: "bad" })).body.token);
    for (const [query, name] of [
      ["?limit=0", "limit"],
      ["?since=yesterday", "since"],
      ["?entityType=order", "entityType"],
      ["?entityId=5", "entityId"],
      ["?cursor=abc", "cursor"],
      ["?colour=red", "colour"],
    ] as const) {
      const res = await changes(token, query);
      expect(res.status, query).toBe(400);
      expect(res.body.message, query).toContain(name);
    }
  });

  it("reads nothing without a live token: missing, forged, revoked, or of a portal that is not active", async () => {
    expect((await changes(null)).status).toBe(401);
    expect((await changes("chb_forgedforgedforgedforgedforgedforgedforged")).status).toBe(401);
    const created = await create(await admin(A), { name: "to revoke" });
    const token = String(created.body.token);
    expect((await changes(token)).status).toBe(200);
    const revoke = await revokeRoute(
      new Request(`http://app/api/admin/api-tokens/${String(created.body.id)}`, {
        method: "DELETE",
        headers: bearer(await admin(A)),
      }),
      { params: Promise.resolve({ id: String(created.body.id) }) },
    );
    expect(revoke.status).toBe(200);
    expect((await changes(token)).status).toBe(401);
    // portal B's admin cannot revoke A's token (it is "not found" to them)
    const other = await create(await admin(A), { name: "A's" });
    const cross = await revokeRoute(
      new Request("http://app/x", { method: "DELETE", headers: bearer(await admin(B)) }),
      { params: Promise.resolve({ id: String(other.body.id) }) },
    );
    expect(cross.status).toBe(404);
    const tokenB = String((await create(await admin(B), { name: "B" })).body.token);
    await getDb().portal.update({ where: { id: portalIds[B]! }, data: { status: "payment_required" } });
    try {
      expect((await changes(tokenB)).status).toBe(401);
    } finally {
      await getDb().portal.update({ where: { id: portalIds[B]! }, data: { status: "active" } });
    }
    expect((await changes(tokenB)).body.items.every((c) => c.newValue.startsWith("new-1-"))).toBe(true);
  });

  it("limits each token to RATE_PER_MIN requests a minute, with Retry-After", async () => {
    const token = String((await create(await admin(A), { name: "busy" })).body.token);
    const statuses: number[] = [];
    for (let k = 0; k < RATE_PER_MIN; k++) statuses.push((await changes(token, "?limit=1")).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const limited = await changes(token, "?limit=1");
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    // The window is the token's own: another token of the same portal is not limited.
    const fresh = String((await create(await admin(A), { name: "calm" })).body.token);
    expect((await changes(fresh, "?limit=1")).status).toBe(200);
    // A minute later the window starts again.
    await getDb().apiToken.updateMany({
      where: { name: "busy" },
      data: { windowStart: new Date(Date.now() - 61_000) },
    });
    expect((await changes(token, "?limit=1")).status).toBe(200);
  });
});
