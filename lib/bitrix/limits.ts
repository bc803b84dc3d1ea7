import type { Lane } from "@/lib/bitrix/contract";

// Pure arithmetic of Bitrix24's limits (docs/bitrix24.md#rate-limits), shared by the Postgres-backed limiter and
// its tests.

/**
 * Slots of the bucket each lane may fill. Background work (backfills, sweeps, probes) stops `reserve` slots short, so
 * neither a user's click (interactive) nor live capture of an edit (capture) waits behind a backfill; capture stops
 * half of that short, so a burst of capture cannot starve a user's click either.
 */
export function laneCapacity(burst: number, lane: Lane): number {
  const reserve = Math.max(2, Math.floor(burst * 0.1));
  // One slot of margin below Bitrix24's own bucket: our clock and the portal's see a request at slightly different
  // instants (network latency), and the portal answers 503 the moment its counter passes the burst.
  const cap = burst - 1;
  if (lane === "interactive") return cap;
  return Math.max(1, lane === "capture" ? cap - Math.floor(reserve / 2) : cap - reserve);
}

/** Seconds until the bucket has room for one more request in this lane. */
export function secondsUntilRoom(level: number, burst: number, drainPerSec: number, lane: Lane): number {
  const over = level + 1 - laneCapacity(burst, lane);
  return over <= 0 ? 0 : over / drainPerSec;
}

/** Tunable retry policy for QUERY_LIMIT_EXCEEDED (operators may shorten or lengthen it). */
export const limitPolicy = { maxRetries: 5, baseMs: 1000, capMs: 30_000 };

/** QUERY_LIMIT_EXCEEDED backoff: exponential from baseMs, capped, with jitter on the upper half. */
export function limitBackoffMs(attempt: number, random = Math.random): number {
  const ceiling = Math.min(limitPolicy.capMs, limitPolicy.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Operating time: pause a method when it has used this share of the window's budget (480 s / 10 min). */
export const OPERATING_LIMIT_S = 480;
export const OPERATING_PAUSE_AT_S = 460;
