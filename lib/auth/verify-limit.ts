import "server-only";
import { AppError } from "@/lib/http-errors";

// Frame verification costs the customer's portal a REST call (user.current + user.admin with the presented AUTH_ID),
// so made-up AUTH_IDs for a known member_id were a free way to spend a customer's REST budget: 20 probes, 20 calls.
// Each (member_id, client address) gets at most `maxFailures` failed verifications per `failureWindowMs`,
// `maxInFlight` at a time (a burst cannot all start before the first failures come back) and
// `maxAttemptsPerMinute` in all; past any of them, a 429 comes before any database read or portal call. So a prober
// costs the portal at most maxFailures + maxInFlight calls per window. A success forgives the client's failures (an
// office behind one address with a few stale frames is not locked out).
// In memory, per process: N processes allow N times as much, which still bounds a prober to a handful of calls.

export const LIMITS = {
  maxFailures: 5,
  failureWindowMs: 10 * 60_000,
  maxInFlight: 10,
  maxAttemptsPerMinute: 300,
  /** clients remembered per process; the least recently seen go first */
  maxKeys: 50_000,
};

interface Entry {
  attempts: number;
  attemptsFrom: number;
  failures: number;
  failuresFrom: number;
  inFlight: number;
}
const entries = new Map<string, Entry>();

/**
 * The address the request came from: the last X-Forwarded-For entry (the one our own proxy — or Next.js, from the
 * socket, when there is none — appended; earlier entries are the client's say-so), else "unknown".
 */
export function clientAddress(headers: Headers | Record<string, unknown> | undefined): string {
  const get = (name: string): string | null => {
    if (headers instanceof Headers) return headers.get(name);
    return typeof headers?.[name] === "string" ? (headers[name] as string) : null;
  };
  const forwarded = get("x-forwarded-for")
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return forwarded?.at(-1) ?? get("x-real-ip") ?? "unknown";
}

function entryFor(key: string, now: number): Entry {
  let e = entries.get(key);
  if (e)
    entries.delete(key); // re-inserted below: the Map's order is least recently used first
  else e = { attempts: 0, attemptsFrom: now, failures: 0, failuresFrom: now, inFlight: 0 };
  entries.set(key, e);
  if (entries.size > LIMITS.maxKeys) entries.delete(entries.keys().next().value!);
  if (now - e.attemptsFrom >= 60_000) [e.attempts, e.attemptsFrom] = [0, now];
  if (now - e.failuresFrom >= LIMITS.failureWindowMs) [e.failures, e.failuresFrom] = [0, now];
  return e;
}

function tooMany(retryMs: number): AppError {
  const minutes = Math.max(1, Math.ceil(retryMs / 60_000));
  const message = `Too many sign-in attempts from this address: try again in ${minutes} min`;
  return new AppError(429, "too_many_attempts", message);
}

/**
 * Runs one verification under the limits of (memberId, client); a 401 from it counts as a failure. Throws 429
 * without calling `verify` when the client is over a limit.
 */
export async function limitFrameVerify<T>(memberId: string, client: string, verify: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const e = entryFor(`${memberId}\u0000${client}`, now);
  if (e.failures >= LIMITS.maxFailures) throw tooMany(e.failuresFrom + LIMITS.failureWindowMs - now);
  if (e.attempts >= LIMITS.maxAttemptsPerMinute) throw tooMany(e.attemptsFrom + 60_000 - now);
  if (e.inFlight >= LIMITS.maxInFlight) throw tooMany(0);
  e.attempts++;
  e.inFlight++;
  try {
    const result = await verify();
    e.failures = 0;
    return result;
  } catch (error) {
    if (error instanceof AppError && error.status === 401) {
      if (e.failures === 0) e.failuresFrom = Date.now();
      e.failures++;
    }
    throw error;
  } finally {
    e.inFlight--;
  }
}

/** Forgets every count (tests that verify many frames from one address). */
export function resetFrameVerifyLimits(): void {
  entries.clear();
}
