// Counters are kept in memory and flushed once a second (lib/metrics/bump.ts). A flush called while another is still
// writing must not return before that one's rows are written: a worker's last flush at stop, or a test reading its
// counter, would miss them. Found as a CI flake of lifecycle-events.test.ts (its unknown-portal counter was missing
// right after flushMetrics(): the one-second flush had taken the row and was still waiting on the database).
import { describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { bumpGlobal, flushMetrics } from "@/lib/metrics/bump";

const value = async (name: string) => (await getDb().globalCounter.findUnique({ where: { name } }))?.value ?? 0n;

describe("flushMetrics", () => {
  it("runs one flush at a time: a second call waits for the write under way, then writes its own rows", async () => {
    const db = getDb();
    const real = db.$executeRaw.bind(db);
    let inFlight = 0;
    let most = 0;
    const spy = vi.spyOn(db, "$executeRaw").mockImplementation(((...args: Parameters<typeof real>) => {
      inFlight++;
      most = Math.max(most, inFlight);
      return real(...args).finally(() => inFlight--);
    }) as typeof db.$executeRaw);
    try {
      const [a, b] = ["test_flush_a", "test_flush_b"];
      const before = [await value(a), await value(b)];
      bumpGlobal(a);
      const first = flushMetrics(); // takes a's row and starts writing it
      bumpGlobal(b);
      const second = flushMetrics().then(async () => [await value(a), await value(b)]);
      await first;
      // when the second call returns, both rows are written — the first call's too
      expect(await second).toEqual([before[0]! + 1n, before[1]! + 1n]);
      expect(most).toBe(1); // never two writes of this process at once
    } finally {
      spy.mockRestore();
    }
  });
});
