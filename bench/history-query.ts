// Bench 6.3 — the History tab's query on a record with many changes among many others' (bench/history-seed.ts):
// lib/history/query.ts queryHistory (first page, a deep page through the cursor, by field, by user) and
// presentChanges, p50 / p99 over many runs next to the < 100 ms target, on PGlite and (BENCH_DATABASE_URL) on a real
// PostgreSQL; the EXPLAIN of the SQL Prisma actually sent, to show which index serves it.
import pg from "pg";
import { getDb } from "@/lib/db";
import { presentChanges } from "@/lib/history/present";
import { loadHistoryView } from "@/lib/history/view";
import { countHistory, historyFacets, queryHistory, type HistoryQuery } from "@/lib/history/query";
import { pgliteDb, progress, realDb, pointAppAt, type BenchDb } from "./history-env";
import { SEED_FIELDS, TARGET_ID, seedChanges, seedLabels, type Seeded } from "./history-seed";
import { fmt, percentile } from "./table";

export interface QueryOptions {
  rows: number;
  target: number;
  runs: number;
}
export interface Timing {
  p50: number;
  p99: number;
  plan?: string;
}
export type CaseTimings = Record<string, Timing>;

async function timeIt(work: () => Promise<unknown>, runs: number): Promise<Timing> {
  for (let i = 0; i < Math.min(20, runs); i++) await work(); // warm caches and the Prisma client
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** The SQL (text + values) Prisma sends for one call, caught at the pg pool the driver adapter uses. */
async function sqlOf(work: () => Promise<unknown>): Promise<{ text: string; values: unknown[] } | null> {
  const proto = pg.Pool.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let seen: { text: string; values: unknown[] } | null = null;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as { text?: string; values?: unknown[] };
    if (q && typeof q === "object" && q.text?.includes('"FieldChange"'))
      seen = { text: q.text, values: q.values ?? [] };
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return seen;
}

/** EXPLAIN ANALYZE of that SQL, short: the scan node (which index), the rows it returned and the rows it threw away. */
async function planOf(url: string, q: { text: string; values: unknown[] } | null): Promise<string> {
  if (!q) return "SQL not captured";
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ "QUERY PLAN": string }>({
      text: `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${q.text}`,
      values: q.values,
    });
    const lines = rows.map((r) => r["QUERY PLAN"].trim().replace(/^->\s*/, ""));
    const scan = lines.find((l) => /Scan/.test(l)) ?? lines[0] ?? "";
    const node = scan
      .replace(/ on "FieldChange"/, "")
      .replace(/"FieldChange_portalId_entityType_entityId_(\w+)"/, "…$1")
      .replace(/ \(actual rows=([\d.]+).*$/, (_m, n: string) => ` read ${Number(n)}`);
    const removed = lines.find((l) => /Rows Removed by Filter/.test(l))?.match(/\d+/)?.[0];
    return `${lines[0]?.split(" ")[0]} → ${node}${removed ? `, ${removed} filtered out` : ""}`;
  } finally {
    await c.end();
  }
}

/** The cursor the tab holds after `pages` pages of 50. */
async function cursorAfter(portalId: string, q: HistoryQuery, pages: number): Promise<string> {
  let cursor: string | undefined;
  for (let i = 0; i < pages; i++) cursor = (await queryHistory(portalId, { ...q, cursor, limit: 50 })).next ?? cursor;
  return cursor!;
}

/** One call to time (with its SQL's EXPLAIN when `plan`). */
export interface Case {
  name: string;
  work: () => Promise<unknown>;
  plan?: boolean;
}
const NAMES = {
  present: "presentChanges (first page)",
  facets: "facets (fields and users in the filters)",
  view: "whole tab view (page + count + facets + labels)",
};

interface Setup {
  s: Seeded;
  base: HistoryQuery;
  deep: string;
  deepName: string;
  first: Awaited<ReturnType<typeof queryHistory>>;
  session: Parameters<typeof loadHistoryView>[0];
}

async function setup(s: Seeded, target: number): Promise<Setup> {
  const base: HistoryQuery = { entityType: "deal", entityId: TARGET_ID };
  const deepPages = Math.max(1, Math.floor((target * 0.8) / 50));
  const session = {
    portalId: s.portalId,
    memberId: "bench",
    portalOrigin: "https://bench-history.bitrix24.test",
    userId: 1,
    userName: "User 1",
    isAdmin: true,
    lang: "en" as const,
    userToken: "bench",
    record: null,
    installedAt: 0,
  };
  return {
    s,
    base,
    deep: await cursorAfter(s.portalId, base, deepPages),
    deepName: `deep page via cursor (after ${deepPages * 50})`,
    first: await queryHistory(s.portalId, base),
    session,
  };
}

/** The calls the tab makes (lib/history/view.ts loadHistoryView and its parts). */
function tabCases({ s, base, deep, deepName, first, session }: Setup): Case[] {
  const byField = { ...base, field: SEED_FIELDS[3]! };
  return [
    { name: "first page (50)", plan: true, work: () => queryHistory(s.portalId, base) },
    { name: deepName, plan: true, work: () => queryHistory(s.portalId, { ...base, cursor: deep }) },
    { name: `by field (${byField.field})`, plan: true, work: () => queryHistory(s.portalId, byField) },
    { name: "by user (#3)", plan: true, work: () => queryHistory(s.portalId, { ...base, userId: 3 }) },
    { name: NAMES.present, work: () => presentChanges(s.portalId, "deal", first.items, "en") },
    { name: 'count (the tab\'s "N changes")', work: () => countHistory(s.portalId, base) },
    { name: NAMES.facets, work: () => historyFacets(s.portalId, "deal", TARGET_ID) },
    { name: NAMES.view, work: () => loadHistoryView(session, { entity: "deal", id: TARGET_ID }) },
  ];
}

async function measureOn(db: BenchDb, o: QueryOptions): Promise<CaseTimings> {
  const restore = await pointAppAt({
    DATABASE_URL: db.url,
    APP_URL: "http://127.0.0.1:9",
    BITRIX_OAUTH_URL: "http://127.0.0.1:9",
  });
  try {
    let t = performance.now();
    const seeded = await seedChanges(db.url, o.rows, o.target);
    await seedLabels(seeded.portalId);
    const onRecord = await getDb().fieldChange.count({
      where: { portalId: seeded.portalId, entityType: "deal", entityId: TARGET_ID },
    });
    progress(
      `query/${db.kind}: ${o.rows} rows (${onRecord} on the record) seeded in ${fmt((performance.now() - t) / 1000)} s`,
    );
    t = performance.now();
    const out: CaseTimings = {};
    const ready = await setup(seeded, o.target);
    for (const c of tabCases(ready)) {
      out[c.name] = await timeIt(c.work, o.runs);
      if (c.plan) out[c.name]!.plan = await planOf(db.url, await sqlOf(c.work));
    }
    progress(
      `query/${db.kind}: ${Object.keys(out).length} cases × ${o.runs} runs in ${fmt((performance.now() - t) / 1000)} s`,
    );
    return out;
  } finally {
    await restore();
  }
}

/** Every case on PGlite and, when BENCH_DATABASE_URL is set, on a real PostgreSQL (a database of this bench's own). */
export async function measureQueries(o: QueryOptions): Promise<{ kind: string; timings: CaseTimings }[]> {
  const makers: [string, () => Promise<BenchDb>][] = [["PGlite", pgliteDb]];
  if (process.env.BENCH_DATABASE_URL)
    makers.push(["PostgreSQL", () => realDb(process.env.BENCH_DATABASE_URL!, "query")]);
  const out: { kind: string; timings: CaseTimings }[] = [];
  for (const [kind, make] of makers) {
    const db = await make();
    try {
      out.push({ kind, timings: await measureOn(db, o) });
    } finally {
      await db.stop();
    }
  }
  return out;
}
