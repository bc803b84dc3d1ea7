// The test counts in a runner's output, for the summary line of `npm test` (scripts/test-all.ts). A flaky test — one
// that passed only on a retry — is counted as failed: retries are off (playwright.config.ts), so one can only appear
// when someone turns them on, and then it must show.
export interface Counts {
  passed: number;
  failed: number;
  flaky: number;
}

const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");
const num = (re: RegExp, text: string) => Number(re.exec(text)?.[1] ?? 0);

export function countTests(output: string): Counts {
  const text = strip(output);
  // vitest: " Tests  2 failed | 8 passed | 1 skipped (11)"
  const vitest = /^\s*Tests\s+(.*)$/m.exec(text)?.[1];
  if (vitest) return { passed: num(/(\d+) passed/, vitest), failed: num(/(\d+) failed/, vitest), flaky: 0 };
  // Playwright's list reporter: "  3 passed (1.2m)", "  1 failed", "  1 flaky" on lines of their own
  const flaky = num(/^\s*(\d+) flaky/m, text);
  return { passed: num(/^\s*(\d+) passed/m, text), failed: num(/^\s*(\d+) failed/m, text) + flaky, flaky };
}

export function summaryLine(c: Counts): string {
  return `tests: ${c.passed} passed, ${c.failed} failed${c.flaky ? ` (${c.flaky} flaky: passed only on a retry)` : ""}`;
}
