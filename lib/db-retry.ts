import "server-only";
import { AppError } from "@/lib/http-errors";
import { log } from "@/lib/log";
import { sleep } from "@/lib/sleep";

// Bitrix24 never resends an online event that got no answer or an error (docs/bitrix24.md#events), so a database
// restart or failover of a few seconds must not cost events: the request retries transient connection errors with
// backoff for up to DB_RETRY_BUDGET_MS, then answers 503 with a message that says nothing was stored. Only
// connection-level failures are retried — a constraint violation or a bad query fails at once. The work must be
// idempotent (the inbox insert is: a retry after a lost commit answer meets the unique idempotency key and reads as a
// duplicate).
export const DB_RETRY_BUDGET_MS = 10_000;

/** Prisma codes of an unreachable or vanished server (P1001 can't reach, P1002/P1008 timeouts, P1017 closed, P2024 pool timeout). */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** @prisma/adapter-pg error kinds for the same conditions. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, crash, starting up), 53300 (too many connections). */
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
/** node-postgres raises these as plain Errors without a code. */
const MESSAGES =
  /Connection terminated|not queryable|Can't reach database server|Server has closed the connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i;

function nested(e: Record<string, unknown>): unknown[] {
  const meta = e.meta as Record<string, unknown> | undefined;
  return [e.cause, meta?.driverAdapterError];
}

/** True for errors that mean "the database is (momentarily) not there", wherever Prisma or pg put the detail. */
export function isTransientDbError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const e = error as Record<string, unknown>;
  const codes = [e.code, e.originalCode].filter((c): c is string => typeof c === "string");
  if (codes.some((c) => PRISMA_CODES.has(c) || SOCKET_CODES.has(c) || SQLSTATE.test(c))) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && MESSAGES.test(e.message)) return true;
  return nested(e).some((n) => isTransientDbError(n, depth + 1));
}

export interface DbRetryOptions {
  /** Absolute deadline (ms since epoch) shared by several steps of one request; default now + DB_RETRY_BUDGET_MS. */
  until?: number;
  /** The 503 message when the database stays away. */
  unavailable?: string;
}

/** A deadline for the steps of one request: they share one budget. */
export const dbRetryDeadline = (budgetMs = DB_RETRY_BUDGET_MS) => Date.now() + budgetMs;

/** Runs `work`, retrying transient connection errors with jittered backoff until the deadline, then answers 503. */
export async function withDbRetry<T>(work: () => Promise<T>, opts: DbRetryOptions = {}): Promise<T> {
  const until = opts.until ?? dbRetryDeadline();
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransientDbError(error)) throw error;
      const delay = Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      const message = error instanceof Error ? error.message.split("\n").at(-1) : String(error);
      if (Date.now() + delay > until) {
        log.error({ attempts: attempt + 1, err: message }, "database unavailable, giving up");
        throw new AppError(
          503,
          "database_unavailable",
          opts.unavailable ?? "The database is unavailable; nothing was stored. Try again later.",
        );
      }
      log.warn({ attempt: attempt + 1, retryInMs: Math.round(delay), err: message }, "database unavailable, retrying");
      await sleep(delay);
    }
  }
}
