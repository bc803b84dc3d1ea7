// The capture lane runs its jobs as a pool (issue #15 item 5, lib/composition/run-worker.ts CapturePool): a slow
// offline drain holds its own slot, never the other portals' next drains. A round that claimed up to eight drains and
// waited for all of them let one slow portal (its REST budget spent by its own backfill, or a portal that answers
// slowly) stand in front of every portal's capture until it ended.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWorker } from "@/lib/composition/run-worker";
import { getDb } from "@/lib/db";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { installPortal } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [0, 1]) ids[i] = (await installPortal(env, i)).id;
});
afterAll(() => env.stop());

const status = async (id: bigint) => (await getDb().job.findUniqueOrThrow({ where: { id } })).status;
const held = async (portal: number) =>
  ((await env.control("holds", {}, portal, "GET")) as unknown as { held: boolean }[]).some((h) => h.held);

describe("the capture lane", () => {
  it("runs another portal's drain while one portal's drain hangs on its portal", async () => {
    const db = getDb();
    await db.job.deleteMany({ where: { status: { in: ["pending", "running"] }, kind: { not: "inline" } } });
    await env.control("hold", { method: "event.offline.get" }, 0); // portal 0 does not answer its drain's read
    const slow = await db.job.create({ data: { kind: "offline.drain", portalId: ids[0]! } });
    const stop = new AbortController();
    const worker = runWorker(stop.signal, "capture");
    try {
      await waitUntil(() => held(0), 20_000);
      // portal 1's edit comes while portal 0's drain hangs: its drain is claimed and done meanwhile
      await env.control("crm/deal/4", { fields: { TITLE: "while another portal hangs" }, userId: 2 }, 1);
      const fast = await db.job.create({ data: { kind: "offline.drain", portalId: ids[1]! } });
      await waitUntil(async () => (await status(fast.id)) === "done", 10_000);
      expect(await status(slow.id)).toBe("running");
      expect(await held(0)).toBe(true);
      await env.control("release", { method: "event.offline.get", outcome: "run" }, 0);
      await waitUntil(async () => (await status(slow.id)) === "done", 20_000);
    } finally {
      stop.abort();
      await env.control("release", { method: "event.offline.get", outcome: "drop" }, 0).catch(() => undefined);
      await worker;
    }
  });
});
