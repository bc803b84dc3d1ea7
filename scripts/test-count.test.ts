import { describe, expect, it } from "vitest";
import { countTests, summaryLine } from "./test-count";

describe("npm test's summary line", () => {
  it("reads vitest's totals, failures first or alone", () => {
    expect(
      countTests(" Test Files  1 failed | 40 passed (41)\n      Tests  2 failed | 398 passed | 3 skipped (403)\n"),
    ).toEqual({ passed: 398, failed: 2, flaky: 0 });
    expect(countTests("      Tests  \u001b[31m2 failed\u001b[39m (2)\n")).toEqual({ passed: 0, failed: 2, flaky: 0 });
  });

  it("counts a Playwright test that passed only on a retry as failed, and says so", () => {
    const output = [
      "  1 failed",
      "    [chromium] › a.spec.ts:3:1 › x",
      "  1 flaky",
      "    [chromium] › b.spec.ts:9:1 › y",
      "  12 passed (2.1m)",
      "",
    ].join("\n");
    const counts = countTests(output);
    expect(counts).toEqual({ passed: 12, failed: 2, flaky: 1 });
    expect(summaryLine(counts)).toBe("tests: 12 passed, 2 failed (1 flaky: passed only on a retry)");
  });

  it("Playwright never retries, under CI included: a retried pass would hide a flaky test", async () => {
    const ci = process.env.CI;
    process.env.CI = "true";
    try {
      const { default: config } = await import("../playwright.config");
      expect(config.retries).toBe(0);
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });

  it("keeps the plain line when nothing is flaky", () => {
    expect(summaryLine(countTests("  7 passed (40.0s)\n"))).toBe("tests: 7 passed, 0 failed");
  });
});
