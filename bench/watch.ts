// `npm run bench -- watch` (issue #17 item 4): capture lag with 1 000 watch rules next to the same run without rules
// (target ≤ 1.1×), through the real path of bench/history-capture.ts: fake portal edits → offline queue → worker →
// capture, where rules are matched inside the capture transaction and their notifications delivered in the capture
// lane. Knobs: BENCH_WATCH_RULES (1000), BENCH_WATCH_RATE (edits/min, 600), BENCH_WATCH_EDIT_SECONDS (60).
import { num } from "./history-env";
import { benchCapture } from "./history-capture";
import { fmt, type BenchRow } from "./table";

export async function benchWatch(): Promise<BenchRow[]> {
  const o = { perMin: num("BENCH_WATCH_RATE", 600), editS: num("BENCH_WATCH_EDIT_SECONDS", 60), waitS: 600 };
  const rules = num("BENCH_WATCH_RULES", 1000);
  const without = await benchCapture({ ...o, rules: 0 });
  const withRules = await benchCapture({ ...o, rules });
  const p = (rows: BenchRow[], i: number) =>
    Number(
      rows[0]!.value
        .split("/")
        [i]!.trim()
        .replace(/[^\d.]/g, ""),
    );
  const ratio = (i: number) => fmt(p(withRules, i) / Math.max(p(without, i), 1e-3), 2);
  return [
    ...without,
    ...withRules,
    {
      bench: `17 watch rules (${rules})`,
      metric: "capture lag with rules ÷ without, p50 / p99",
      value: `${ratio(0)} / ${ratio(1)}`,
      baseline: "target ≤ 1.1",
      note: `${o.perMin}/min for ${o.editS} s each, same machine, one after the other`,
    },
  ];
}
