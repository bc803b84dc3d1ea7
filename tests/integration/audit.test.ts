import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import AuditPage from "@/app/audit/page";
import { getDb } from "@/lib/db";
import { parseAuditQuery, recordPath, searchAudit, type AuditQuery } from "@/lib/history/audit";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// The admins' Audit page (issue #17 item 1, docs/history.md "Audit page"): every change of the portal by person,
// field, type, record, period and source, newest first in keyset pages, another portal's changes never among them;
// only a portal administrator sees it.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const A = 0,
  B = 1;
const TYPES = ["deal", "contact", "quote", "dynamic_128"];
const SOURCES = ["event", "event", "backfill", "revert", "reconciled"];
const DAY = 86_400_000;
const BASE = Date.parse("2026-03-01T10:00:00Z");

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [A, B]) {
    await env.control("install", { mode: "ui", finish: true }, i);
    ids[i] = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
    // 40 changes a portal, one every 6 hours from 1 March: k decides the type, record, field, person and source.
    await getDb().fieldChange.createMany({
      data: Array.from({ length: 40 }, (_, k) => ({
        portalId: ids[i]!,
        entityType: TYPES[k % 4]!,
        entityId: 700 + (k % 3),
        field: k % 5 ? "TITLE" : "STAGE_ID",
        oldValue: `old-${i}-${k}`,
        newValue: `new-${i}-${k}`,
        changedById: 1 + (k % 3),
        changedAt: new Date(BASE + (k * DAY) / 4),
        source: SOURCES[k % 5]!,
      })),
    });
    await getDb().userNameCache.createMany({
      skipDuplicates: true,
      data: [
        { portalId: ids[i]!, userId: 1, name: "Anna Admin" },
        { portalId: ids[i]!, userId: 2, name: "Boris Manager" },
        { portalId: ids[i]!, userId: 3, name: "Clara Sales" },
      ],
    });
  }
});
afterAll(() => env.stop());

/** The k of every change `q` finds on portal A, walking all its pages. */
async function found(q: Partial<AuditQuery>, limit = 50): Promise<number[]> {
  const ks: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await searchAudit(ids[A]!, { ...q, cursor }, limit);
    ks.push(
      ...page.items.map((c) => {
        const [, portal, k] = String(c.newValue).split("-");
        expect(portal).toBe("0"); // never portal B's
        return Number(k);
      }),
    );
    cursor = page.next ?? undefined;
  } while (cursor);
  return ks;
}
const expected = (pred: (k: number) => boolean) => Array.from({ length: 40 }, (_, k) => 39 - k).filter(pred);
/** Whether change k was made on a UTC day from `from` to `to`, both included. */
const on = (k: number, from: string, to: string) =>
  BASE + (k * DAY) / 4 >= Date.parse(from) && BASE + (k * DAY) / 4 < Date.parse(to) + DAY;

describe("the audit search", () => {
  it("filters by person, field, type, record, period and source, newest first, this portal only", async () => {
    expect(await found({})).toEqual(expected(() => true));
    expect(await found({ person: 2 })).toEqual(expected((k) => 1 + (k % 3) === 2));
    expect(await found({ field: "STAGE_ID" })).toEqual(expected((k) => k % 5 === 0));
    expect(await found({ type: "quote" })).toEqual(expected((k) => k % 4 === 2));
    expect(await found({ type: "deal", record: 701 })).toEqual(expected((k) => k % 4 === 0 && k % 3 === 1));
    // a record id without a type: that id in every type of the portal
    expect(await found({ record: 701 })).toEqual(expected((k) => k % 3 === 1));
    expect(await found({ source: "revert" })).toEqual(expected((k) => k % 5 === 3));
    // 2 March and 3 March (UTC days, both included): k 3..10
    expect(await found({ from: "2026-03-02", to: "2026-03-03" })).toEqual(expected((k) => k >= 3 && k <= 10));
    expect(await found({ person: 3, from: "2026-03-05", to: "2026-03-07", type: "dynamic_128" })).toEqual(
      expected((k) => on(k, "2026-03-05", "2026-03-07") && k % 3 === 2 && k % 4 === 3),
    );
  });

  it("pages with no gap and no repeat, whatever the page size", async () => {
    for (const limit of [1, 7, 40]) expect(await found({ person: 1 }, limit)).toEqual(expected((k) => k % 3 === 0));
    expect(await found({ from: "2026-03-02", to: "2026-03-08" }, 3)).toEqual(
      expected((k) => on(k, "2026-03-02", "2026-03-08")),
    );
  });

  it("refuses a bad filter, naming it", () => {
    expect(() => parseAuditQuery({ from: "2026-13-01" })).toThrow(/from/);
    expect(() => parseAuditQuery({ source: "import" })).toThrow(/source/);
    expect(() => parseAuditQuery({ cursor: "not-a-cursor" })).toThrow(/cursor/);
    expect(() => parseAuditQuery({ field: "TITLE; DROP" })).toThrow(/field/);
    expect(parseAuditQuery({ person: "", field: "", record: "12" })).toEqual({ record: 12 });
  });

  it("opens each type's card at the path BX24.openPath takes", () => {
    expect(recordPath("deal", 5)).toBe("/crm/deal/details/5/");
    expect(recordPath("company", 6)).toBe("/crm/company/details/6/");
    expect(recordPath("quote", 7)).toBe("/crm/type/7/details/7/");
    expect(recordPath("smart_invoice", 8)).toBe("/crm/type/31/details/8/");
    expect(recordPath("dynamic_1040", 9)).toBe("/crm/type/1040/details/9/");
  });
});

const render = async (userId: number, params: Record<string, string> = {}) => {
  const { token } = await frameSession(env.control, userId, null, A);
  return renderToStaticMarkup(await AuditPage({ searchParams: Promise.resolve({ st: token, ...params }) }));
};

describe("the Audit page", () => {
  it("shows an admin the changes a person made in a period, each linked to its record", async () => {
    const html = await render(1, { person: "2", from: "2026-03-02", to: "2026-03-03" });
    const shown = [...html.matchAll(/old-0-(\d+) → new-0-\d+/g)].map((m) => Number(m[1]));
    expect(shown).toEqual(expected((k) => on(k, "2026-03-02", "2026-03-03") && k % 3 === 1));
    expect(html).toContain("Boris Manager");
    expect(html).toContain('data-path="/crm/type/128/details/701/"'); // k 7: dynamic_128, record 701
    expect(html).toMatch(/href="\/placements\/tab\?st=[^"]+&amp;entity=dynamic_128&amp;id=701"/);
    expect(html).not.toContain("new-1-"); // nothing of portal B
    const all = await render(1);
    expect([...all.matchAll(/new-0-\d+/g)]).toHaveLength(40);
    expect(all).not.toContain("cursor=");
  });

  it("pages older with the filters kept", async () => {
    const first = await render(1, { source: "event" });
    const next = /href="\/audit\?([^"]*cursor=[^"]+)"/.exec(first)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toBeUndefined(); // 16 changes: one page
    const cursor = (await searchAudit(ids[A]!, { source: "event" }, 10)).next!;
    const deep = new URLSearchParams({ cursor, source: "event" });
    const older = await render(1, Object.fromEntries(deep));
    expect([...older.matchAll(/old-0-(\d+) →/g)].map((m) => Number(m[1]))).toEqual(
      expected((k) => k % 5 < 2).slice(10),
    );
    expect(older).toMatch(/href="\/audit\?st=[^"]+&amp;source=event"/); // back to the newest, still by source
  });

  it("is for administrators only: an employee sees the settings page's denial and no change", async () => {
    const html = await render(2);
    expect(html).toContain("This page is for portal administrators.");
    expect(html).not.toMatch(/new-0-/);
    expect(html).not.toContain("<form");
  });

  it("says which filter is wrong and still answers", async () => {
    const html = await render(1, { from: "yesterday" });
    expect(html).toMatch(/role="alert"[^>]*>from: must be a day/);
  });
});
