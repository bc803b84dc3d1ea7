// `npm run bench -- audit` (issue #17 item 1) — the admins' Audit page search (lib/history/audit.ts searchAudit, the
// SQL Prisma sends) on one portal with --rows changes (10 000 000 by default) among other portals' (--others, 10 % of
// them): person + period, person, field, record, a record id without its type, source, type, period, a deep page and
// the page's whole data (loadAuditView: search + labels + names). p50 / p99 over --runs searches each, every run with
// other parameters (a seeded PRNG), next to the < 300 ms target; the plan shows which index served the case.
// Rows are written with generate_series into the migrated table with its secondary indexes dropped, then the
// indexes are built again from their own definitions and the table vacuumed and analysed — as a live table stands.
// Real PostgreSQL (BENCH_DATABASE_URL, an admin URL); without it PGlite, with --rows=200000 by default.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { getDb } from "@/lib/db";
import { loadAuditView, searchAudit, type AuditQuery } from "@/lib/history/audit";
import { benchDatabase, type BenchDb } from "./db";
import { pointAppAt } from "./history-env";
import { fmt, percentile, type BenchRow } from "./table";

const arg = (name: string, fallback: number) => {
  const given = process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const v = Number(given ?? process.env[`BENCH_AUDIT_${name.toUpperCase()}`]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const progress = (msg: string) => console.error(`[bench audit] ${msg}`);

const FIELDS = [
  "STAGE_ID",
  "OPPORTUNITY",
  "ASSIGNED_BY_ID",
  "TITLE",
  "COMMENTS",
  "CLOSEDATE",
  "UF_CRM_AMOUNT",
  "UF_CRM_TEXT",
  "UF_CRM_BUDGET",
  "CONTACT_ID",
  "UF_CRM_DUE",
  "UF_CRM_SOURCE",
  "COMPANY_ID",
  "UF_CRM_TAGS",
  "UF_CRM_MEETING",
  "UF_CRM_VIP",
  "CURRENCY_ID",
  "UF_CRM_CURATOR",
  "UF_CRM_PARTNER",
  "UF_CRM_CONTRACT",
];
// deal 50 %, lead 15 %, contact 15 %, company 10 %, quotes, invoices and two smart processes the rest
const TYPES = [
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "deal",
  "lead",
  "lead",
  "lead",
  "contact",
  "contact",
  "contact",
  "company",
  "company",
  "quote",
  "dynamic_128",
];
const USERS = 200;
const RECORDS = 500_000;
const DAYS = 1095;
const START = Date.parse("2023-12-01T00:00:00Z");

async function portalRow(label: string) {
  const memberId = randomBytes(16).toString("hex");
  const p = await getDb().portal.create({
    data: {
      memberId,
      domain: `${label}.bitrix24.test`,
      installStage: "finished",
      clientEndpoint: `https://${label}.bitrix24.test/rest/`,
      serverEndpoint: "https://oauth.bitrix.info/rest/",
    },
  });
  return p.id;
}

/**
 * `rows` changes of `portalId` and `others` of other portals, interleaved and in time order (ids grow with
 * changedAt, as live capture writes them). Fields, people and records are skewed as real edits are; sources are
 * mostly events; 2 % are changes of smart process 1040 and 0.5 % invoices (rare types).
 */
async function seed(url: string, portalId: string, otherIds: string[], rows: number, others: number) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const indexes = await c.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes
    WHERE tablename = 'FieldChange' AND indexname <> 'FieldChange_pkey'`);
  for (const i of indexes.rows) await c.query(`DROP INDEX "${i.indexname}"`);
  await c.query("SELECT setseed(0.17)");
  const total = rows + others;
  const chunk = 1_000_000;
  const fields = `ARRAY[${FIELDS.map((f) => `'${f}'`).join(",")}]`;
  const types = `ARRAY[${TYPES.map((f) => `'${f}'`).join(",")}]`;
  const portals = `ARRAY[${otherIds.map((p) => `'${p}'`).join(",")}]`;
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1);
    await c.query(
      `
      INSERT INTO "FieldChange" ("portalId", "entityType", "entityId", field, "oldValue", "newValue", "changedById",
        "changedAt", source, "createdAt")
      SELECT portal, etype, 1 + floor(${RECORDS} * power(random(), 2))::int, (${fields})[1 + floor(${FIELDS.length}
               * power(random(), 2))::int],
             to_jsonb('value ' || floor(random() * 100000)::int), to_jsonb('value ' || floor(random() * 100000)::int),
             1 + floor(${USERS} * power(random(), 3))::int, at,
             CASE WHEN s < 0.90 THEN 'event' WHEN s < 0.96 THEN 'backfill' WHEN s < 0.99 THEN 'reconciled'
               ELSE 'revert' END, at
      FROM (SELECT CASE WHEN random() * $3 < $2 THEN $1 ELSE (${portals})[1 + floor(random() * ${otherIds.length})::int]
                   END AS portal,
                   CASE WHEN r < 0.02 THEN 'dynamic_1040' WHEN r < 0.025 THEN 'smart_invoice'
                     ELSE (${types})[1 + floor(random() * ${TYPES.length})::int] END AS etype,
                   random() AS s,
                   date_trunc('milliseconds', timestamptz '2023-12-01 00:00:00+00'
                     + ((g + random()) / $3::float) * interval '${DAYS} days') AS at
            FROM (SELECT g, random() AS r FROM generate_series($4::int, $5::int) g) gs) x`,
      [portalId, rows, total, from, to],
    );
    progress(`${to.toLocaleString("en")} / ${total.toLocaleString("en")} rows`);
  }
  await c.query("SET maintenance_work_mem = '512MB'");
  for (const i of indexes.rows) {
    const t = Date.now();
    await c.query(i.indexdef);
    progress(`${i.indexname} built in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  await c.query(`VACUUM ANALYZE "FieldChange"`);
  await c.end();
}

/** A PRNG of its own, so two runs search the same things. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}
const day = (r: () => number, within = DAYS) =>
  new Date(START + Math.floor(r() * within) * 86_400_000).toISOString().slice(0, 10);
const plusDays = (d: string, n: number) => new Date(Date.parse(d) + n * 86_400_000).toISOString().slice(0, 10);
const person = (r: () => number) => 1 + Math.floor(USERS * r() ** 3);

/** The cases: each draws its filters for one run. */
const CASES: Record<string, (r: () => number) => AuditQuery> = {
  "person + 30 days": (r) => {
    const from = day(r, DAYS - 30);
    return { person: person(r), from, to: plusDays(from, 29) };
  },
  "person (any, all time)": (r) => ({ person: 1 + Math.floor(USERS * r()) }),
  "field (any of 20)": (r) => ({ field: FIELDS[Math.floor(r() * FIELDS.length)]! }),
  "record (type + id)": (r) => ({ type: "deal", record: 1 + Math.floor(RECORDS * r() ** 2) }),
  "record id, no type": (r) => ({ record: 1 + Math.floor(RECORDS * r() ** 2) }),
  "source (revert / reconciled)": (r) => ({ source: r() < 0.5 ? "revert" : "reconciled" }),
  "type (smart process 1040)": () => ({ type: "dynamic_1040" }),
  "period (one day)": (r) => {
    const from = day(r);
    return { from, to: from };
  },
  "person + field + 90 days": (r) => {
    const from = day(r, DAYS - 90);
    return { person: person(r), field: FIELDS[Math.floor(r() * 4)]!, from, to: plusDays(from, 89) };
  },
};

async function timeRuns(
  runs: number,
  draw: (r: () => number) => AuditQuery,
  work: (q: AuditQuery) => Promise<unknown>,
) {
  const r = rng(7);
  for (let i = 0; i < Math.min(10, runs); i++) await work(draw(r)); // warm the Prisma client and the cache
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const q = draw(r);
    const t = performance.now();
    await work(q);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** The scan node of the SQL Prisma sends for `q`: which index served it. */
async function planOf(url: string, portalId: string, q: AuditQuery): Promise<string> {
  const proto = pg.Pool.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let seen: { text: string; values: unknown[] } | null = null;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const sql = args[0] as { text?: string; values?: unknown[] };
    const ours = sql?.text?.includes('"FieldChange"') && sql.text.includes("ORDER BY");
    if (ours) seen = { text: sql.text!, values: sql.values ?? [] };
    return original.apply(this, args);
  };
  try {
    await searchAudit(portalId, q);
  } finally {
    proto.query = original;
  }
  if (!seen) return "SQL not captured";
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { text, values } = seen as { text: string; values: unknown[] };
    const plan = await c.query<{ "QUERY PLAN": string }>({ text: `EXPLAIN (COSTS OFF) ${text}`, values });
    const scan = plan.rows.map((p) => p["QUERY PLAN"].trim()).find((l) => /Scan/.test(l)) ?? "";
    return scan
      .replace(/^->\s*/, "")
      .replace(/ on "FieldChange"/, "")
      .replace(/"FieldChange_portalId_(\w+)_idx"/, "$1");
  } finally {
    await c.end();
  }
}

export async function benchAudit(): Promise<BenchRow[]> {
  const real = Boolean(process.env.BENCH_DATABASE_URL);
  const rows = arg("rows", real ? 10_000_000 : 200_000);
  const others = arg("others", Math.round(rows / 10));
  const runs = arg("runs", 200);
  const db: BenchDb = await benchDatabase("audit", real ? "PostgreSQL" : "PGlite", { migrate: true });
  const restore = await pointAppAt({ DATABASE_URL: db.url, APP_URL: "http://127.0.0.1:9" });
  const out: BenchRow[] = [];
  try {
    const portalId = await portalRow("bench-audit");
    const otherIds = [await portalRow("bench-audit-b"), await portalRow("bench-audit-c")];
    await getDb().userNameCache.createMany({
      data: Array.from({ length: USERS }, (_, i) => ({ portalId, userId: i + 1, name: `User ${i + 1}` })),
    });
    const t = Date.now();
    progress(
      `seeding ${rows.toLocaleString("en")} changes + ${others.toLocaleString("en")} of other portals` +
        ` (${db.kind})`,
    );
    await seed(db.url, portalId, otherIds, rows, others);
    progress(`seeded and indexed in ${Math.round((Date.now() - t) / 1000)} s`);
    const size = `${rows.toLocaleString("en")} rows (+${others.toLocaleString("en")} other portals'), ${db.kind}`;
    const row = (metric: string, r: { p50: number; p99: number }, note: string) =>
      out.push({
        bench: "audit",
        metric,
        value: `p50 ${fmt(r.p50)} ms / p99 ${fmt(r.p99)} ms`,
        baseline: "< 300 ms p99 (issue #17)",
        note,
      });
    for (const [name, draw] of Object.entries(CASES)) {
      const r = await timeRuns(runs, draw, (q) => searchAudit(portalId, q));
      const plan = await planOf(db.url, portalId, draw(rng(7)));
      row(`search: ${name}`, r, `${size}; ${plan}`);
      progress(`${name}: p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms — ${plan}`);
    }
    const deep = await timeRuns(Math.min(runs, 50), CASES["person + 30 days"]!, async (q) => {
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) cursor = (await searchAudit(portalId, { ...q, cursor })).next ?? undefined;
    });
    row("search: person + 30 days, 10 pages deep (per 10 pages)", deep, size);
    const page = await timeRuns(Math.min(runs, 100), CASES["person + 30 days"]!, (q) =>
      loadAuditView(portalId, q, "en"),
    );
    row("page data: person + 30 days (search + labels + names)", page, size);
  } finally {
    await restore();
    await db.stop();
  }
  return out;
}
