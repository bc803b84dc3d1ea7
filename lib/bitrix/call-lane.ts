import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import type { Lane } from "@/lib/bitrix/contract";

// The worker lane a piece of work runs in (lib/composition/run-worker.ts). The same reads serve live capture and a backfill
// (lib/history/records.ts, items.ts, product-rows.ts, users.ts, fields.ts), so the lane is the caller's context, not a
// parameter threaded through each of them: calls made inside runInLane("capture", …) draw from the capture share of
// the portal's budget (lib/bitrix/limits.ts laneCapacity) instead of queueing behind that portal's backfill.
const current = new AsyncLocalStorage<Lane>();

export function runInLane<T>(lane: Lane, work: () => Promise<T>): Promise<T> {
  return current.run(lane, work);
}

/** The lane a call draws from: interactive when asked; otherwise the worker lane it runs in, else its own choice. */
export function effectiveLane(asked: Lane | undefined): Lane {
  if (asked === "interactive") return "interactive";
  return current.getStore() ?? asked ?? "background";
}
