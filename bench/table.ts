// One printed table for `npm run bench`: every figure next to its baseline, measured in the same run.
export interface BenchRow {
  bench: string;
  metric: string;
  value: string;
  baseline?: string;
  note?: string;
}

export function printTable(rows: BenchRow[]): string {
  const header: BenchRow = { bench: "bench", metric: "metric", value: "ours", baseline: "baseline", note: "note" };
  const all = [header, ...rows];
  const cols: (keyof BenchRow)[] = ["bench", "metric", "value", "baseline", "note"];
  const width = cols.map((c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: BenchRow) => cols.map((c, i) => (r[c] ?? "").padEnd(width[i]!)).join(" | ");
  const out = [line(header), width.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
  console.log(out);
  return out;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** 1234567 → "1 234 567" (the way docs/performance.md prints counts) */
export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US").replace(/,/g, " ");
}
