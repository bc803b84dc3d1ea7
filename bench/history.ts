// Bench 6 (issue 6 item 5, issue 7 item 4) — the product at scale, each figure next to its baseline from the same run:
//   backfill  N deals under Bitrix24's default limits vs the minimum those limits impose (bench/history-backfill.ts)
//   capture   lag edit → stored FieldChange at a sustained edit rate, real worker process (bench/history-capture.ts)
//   query     the History tab's queries on a record with many changes, PGlite and PostgreSQL (bench/history-query.ts)
//   crm       a mixed backfill over deals, contacts, quotes, invoices and a smart process vs its minimum, and the
//             capture lag of smart-process edits (issue 14; bench/crm-coverage.ts, its own knobs: --records=…)
// Knobs (defaults = the sizes): BENCH_HISTORY_PARTS=backfill,capture,query,crm  BENCH_HISTORY_DEALS=100000
//   BENCH_HISTORY_RATE=1000 (edits/min)  BENCH_HISTORY_EDIT_SECONDS=120  BENCH_HISTORY_WAIT_SECONDS=1200
//   BENCH_HISTORY_ROWS=1000000  BENCH_HISTORY_RECORD_CHANGES=10000  BENCH_HISTORY_RUNS=200
// BENCH_DATABASE_URL (admin URL of a real PostgreSQL): backfill and capture run there instead of PGlite, the query
// part runs on both. Each part creates and drops databases of its own.
import { benchBackfill } from "./history-backfill";
import { benchCapture } from "./history-capture";
import { benchCrmCoverage } from "./crm-coverage";
import { num, progress } from "./history-env";
import { measureQueries, type CaseTimings } from "./history-query";
import { fmt, type BenchRow } from "./table";
import { errorMessage } from "@/lib/error-message";

const TARGET_MS = 100;
const int = (n: number) => Math.round(n).toLocaleString("en-US").replace(/,/g, " ");

function queryRows(
  results: { kind: string; timings: CaseTimings }[],
  o: { rows: number; target: number; runs: number },
): BenchRow[] {
  const bench = "6 history tab query";
  const ms = (t: { p50: number; p99: number } | undefined) => (t ? `${fmt(t.p50)} / ${fmt(t.p99)} ms` : "—");
  const names = Object.keys(results[0]?.timings ?? {});
  const both = (name: string) => results.map((r) => `${r.kind} ${ms(r.timings[name])}`).join(" · ");
  const rows: BenchRow[] = [
    {
      bench,
      metric: "data",
      value: `${int(o.rows)} FieldChange rows, ${int(o.target)} on the record`,
      baseline: `${o.runs} runs per case`,
      note: process.env.BENCH_DATABASE_URL
        ? "same seeded data on both databases"
        : "PGlite only: BENCH_DATABASE_URL adds a real PostgreSQL",
    },
  ];
  for (const name of names) {
    const t = results.map((r) => r.timings[name]!);
    const plans = [...new Set(t.map((x) => x.plan).filter(Boolean))].join(" | ");
    rows.push({
      bench,
      metric: `${name}, p50 / p99`,
      value: both(name),
      baseline: `target < ${TARGET_MS} ms`,
      note: plans ? `plan: ${plans}` : "",
    });
  }
  return rows;
}

async function part(name: string, work: () => Promise<BenchRow[]>): Promise<BenchRow[]> {
  const started = Date.now();
  try {
    const rows = await work();
    const took = `${name} took ${fmt((Date.now() - started) / 1000, 0)} s`;
    progress(took);
    if (rows[0]) rows[0].note = rows[0].note ? `${rows[0].note}; ${took}` : took;
    return rows;
  } catch (e) {
    progress(`${name} failed: ${e instanceof Error ? e.stack : String(e)}`);
    return [{ bench: `6 history ${name}`, metric: "failed", value: "—", note: errorMessage(e) }];
  }
}

export async function benchHistory(): Promise<BenchRow[]> {
  const parts = (process.env.BENCH_HISTORY_PARTS ?? "backfill,capture,query,crm").split(",").map((p) => p.trim());
  const rows: BenchRow[] = [];
  if (parts.includes("backfill"))
    rows.push(...(await part("backfill", () => benchBackfill(num("BENCH_HISTORY_DEALS", 100_000)))));
  if (parts.includes("capture")) {
    const o = {
      perMin: num("BENCH_HISTORY_RATE", 1000),
      editS: num("BENCH_HISTORY_EDIT_SECONDS", 120),
      waitS: num("BENCH_HISTORY_WAIT_SECONDS", 1200),
    };
    rows.push(...(await part("capture", () => benchCapture(o))));
  }
  if (parts.includes("query")) {
    const o = {
      rows: num("BENCH_HISTORY_ROWS", 1_000_000),
      target: num("BENCH_HISTORY_RECORD_CHANGES", 10_000),
      runs: num("BENCH_HISTORY_RUNS", 200),
    };
    rows.push(...(await part("query", async () => queryRows(await measureQueries(o), o))));
  }
  if (parts.includes("crm")) rows.push(...(await part("crm", async () => benchCrmCoverage())));
  return rows;
}
