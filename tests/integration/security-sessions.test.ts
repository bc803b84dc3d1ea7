import { encode } from "next-auth/jwt";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readSessionToken } from "@/lib/auth/session";
import { bitrixFor } from "@/lib/bitrix";
import { flushRestLog } from "@/lib/bitrix/rest-log";
import { getDb } from "@/lib/db";
import { discoverRoutes } from "../support/routes";
import { ATTACKS, MARKS, type Guarded, type Objects } from "../support/security-attacks";
import { A, B, byPath, footprint as footprintOf, send, sessionFor, setUpSecurityEnv } from "../support/security-env";

// Threat: a request to a guarded route with no session, a forged, expired or tampered one, a non-admin's, or portal
// A's admin reaching for portal B's objects (docs/security.md). Every "admin"/"session" route of the attack plan
// (tests/support/security-attacks.ts) is attacked; nothing may change on either portal.
const s = setUpSecurityEnv();
const footprint = (i: number) => footprintOf(s.env, s.portals[i]!.id, i);
// API routes, and the pages that have an attack plan (the CRM placements, rendered as Next.js renders them).
const apis = discoverRoutes().filter((r) => r.kind === "api" || ATTACKS[r.path]);
const guarded = apis.flatMap((r) => {
  const a = ATTACKS[r.path];
  return a && "crossStatus" in a ? [[r.path, a] as const] : [];
});

describe("sessions: missing, forged, non-admin and cross-portal", () => {
  const objects: Objects[] = [];
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const i of [A, B]) {
      const p = s.portals[i]!;
      const expiresAt = new Date(Date.now() + 3600_000);
      const pending = await getDb().pendingCall.create({
        data: { portalId: p.id, method: "crm.deal.get", params: { id: 1 }, tokenHash: "x", expiresAt },
      });
      const change = await getDb().fieldChange.create({
        data: {
          portalId: p.id,
          entityType: "deal",
          entityId: 3 + i,
          field: "TITLE",
          oldValue: `private-old-${i}`,
          newValue: `private-new-${i}`,
          changedById: 2,
          changedAt: new Date(),
        },
      });
      const apiToken = await getDb().apiToken.create({
        data: { portalId: p.id, name: `t${i}`, tokenHash: `h${i}`, createdById: 1 },
      });
      const watchRule = await getDb().watchRule.create({
        data: {
          portalId: p.id,
          createdById: 1,
          scope: "personal",
          name: `w${i}`,
          entityType: "deal",
          fields: [],
          condition: "changed",
        },
      });
      const auditExport = await getDb().auditExport.create({
        data: {
          portalId: p.id,
          userId: 1,
          filters: {},
          format: "csv",
          status: "done",
          fileName: `private-new-${i}.csv`,
        },
      });
      objects[i] = {
        portal: i,
        portalId: p.id,
        memberId: p.memberId,
        pendingId: pending.id,
        changeId: String(change.id),
        recordId: 3 + i,
        apiTokenId: apiToken.id,
        watchRuleId: watchRule.id,
        exportId: auditExport.id,
      };
      await (await bitrixFor(p.id)).call("crm.deal.list", { filter: { TITLE: `private-new-${i}` } }); // REST log mark
    }
    await flushRestLog();
    [tokens.adminA, tokens.userA] = [await sessionFor(s.env, A, 1), await sessionFor(s.env, A, 2)];
    const claims = (await readSessionToken(tokens.adminA))!;
    const otherSecret = "a-different-app-secret-0123456789abcdef";
    tokens.otherSecret = await encode({ token: { ...claims, sub: "x" }, secret: otherSecret, maxAge: 600 });
    tokens.expired = await encode({ token: { ...claims, sub: "x" }, secret: process.env.APP_SECRET!, maxAge: -60 });
    tokens.tampered = `${tokens.adminA.slice(0, -3)}${tokens.adminA.slice(-3) === "AAA" ? "BBB" : "AAA"}`;
  });
  beforeEach(async () => {
    for (const i of [A, B]) {
      await getDb().backfillRun.updateMany({ where: { portalId: s.portals[i]!.id }, data: { processed: 7770 + i } });
    }
  });
  const marked = (text: string, i: number) => MARKS(i).some((m) => text.includes(m));
  const attempt = (p: string, a: Guarded, token: string | null, target: number) => {
    const req = a.request(objects[target]!);
    return send(byPath(p), { ...req, token, via: req.via ?? a.via });
  };

  const noSession = "%s: no, forged or expired session ⇒ 401 and nothing happens on either portal";
  it.each(guarded)(noSession, async (p, attack) => {
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

  const admins = guarded.filter(([, a]) => a.access === "admin");
  it.each(admins)("%s: a non-admin ⇒ 403 and nothing happens", async (p, attack) => {
    const before = [await footprint(A), await footprint(B)];
    expect((await attempt(p, attack, tokens.userA!, A)).status).toBe(403);
    expect([await footprint(A), await footprint(B)]).toEqual(before);
  });

  const crossTitle = "%s: portal A's admin pointing at portal B's objects is refused; B gets no request and no write";
  it.each(guarded)(crossTitle, async (p, attack) => {
    const beforeB = await footprint(B);
    const cross = await attempt(p, attack, tokens.adminA!, B);
    const text = await cross.text();
    expect(cross.status, text).toBe(attack.crossStatus);
    expect(marked(text, B), text).toBe(false);
    // B's history of that id is not A's
    if (p === "/api/history/export") expect(JSON.parse(text)).toMatchObject({ rows: 0 });
    expect(await footprint(B)).toEqual(beforeB);
    // The same request on A's own objects works: the refusal above is about the portal, not the route.
    const beforeA = await footprint(A);
    const ownRes = await attempt(p, attack, tokens.adminA!, A);
    const ownText = await ownRes.text();
    expect([200, 201], ownText).toContain(ownRes.status); // 201: a token created
    if (attack.proof === "rest") expect((await footprint(A)).requests).toBeGreaterThan(beforeA.requests);
    else if (attack.proof === "write") expect((await footprint(A)).rows).not.toEqual(beforeA.rows);
    else expect(marked(ownText, A), ownText).toBe(true);
  });
});
