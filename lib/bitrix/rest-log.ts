import "server-only";
import { Prisma } from "@prisma/client";
import { redactAll } from "@/lib/bitrix/redact";
import { getDb } from "@/lib/db";
import { loadEnv } from "@/lib/env";
import { log } from "@/lib/log";
import { FLUSH_MS } from "@/lib/metrics/bump";

// The REST log: every request the app sends to a portal or an OAuth server, with its answer, kept REST_LOG_DAYS
// (≥ 3: the Bitrix24 Market asks partners to keep request logs at least 3 days for support cases). Secrets are
// redacted and each text is cut at 8 KB before anything is buffered (lib/bitrix/redact.ts). Buffered like the
// metrics (lib/metrics/bump.ts): rows are written once a second or every FLUSH_ROWS rows, in one statement, so a
// call never waits on the log; best effort, a failed write loses those rows, never the call. Flushed when the
// worker stops (lib/composition/run-worker.ts); a process killed without a stop loses at most its last second.
export const FLUSH_ROWS = 200;
export const FIELD_MAX = 8 * 1024;
/** Rows kept in memory while the database does not take them: beyond this the oldest are dropped. */
const MAX_PENDING = 20 * FLUSH_ROWS;
const PRUNE_BATCH = 5_000;
const PRUNE_MAX_BATCHES = 200;

/** What the caller knows about a request: the portal (the portal client knows it) and the lane. */
export interface RestLogContext {
  portalId?: string | null;
  lane?: string | null;
}

export interface RestCall extends RestLogContext {
  url: string;
  method: string;
  params: unknown;
  startedAt: number;
  /** HTTP status, 0 when no answer came */
  status: number;
  /** the parsed answer, or the text of one that is not JSON */
  answer: unknown;
  errorCode?: string | null;
}

/** One logged call as stored; the admin page's entry (lib/admin/rest-log.ts) is the same with its id and a text time. */
export interface RestLogRow {
  at: Date;
  portalId: string | null;
  memberId: string | null;
  host: string;
  method: string;
  lane: string | null;
  status: number;
  durationMs: number;
  errorCode: string | null;
  params: string;
  response: string;
}
type Row = RestLogRow;

let pending: Row[] = [];
let timer: NodeJS.Timeout | null = null;
const writing = new Set<Promise<void>>();

/** `{"error":"ERROR_CODE"}` (v2, OAuth), `{"error":{"code":…}}` (v3), or the text of a code-less CRM error. */
function errorCodeOf(answer: unknown): string | null {
  if (!answer || typeof answer !== "object" || !("error" in answer)) return null;
  const { error, error_description: description } = answer as { error: unknown; error_description?: unknown };
  if (typeof error === "string") return (error || (typeof description === "string" ? description : "")).slice(0, 100);
  const code = error && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code.slice(0, 100) : null;
}

/** Records one request and its answer. Never throws: the log must not fail the call it describes. */
export function recordRestCall(call: RestCall): void {
  try {
    const env = loadEnv();
    const [params, response] = redactAll([call.params, call.answer], {
      max: FIELD_MAX,
      oauth: call.method.startsWith("oauth:"),
      known: [env.BITRIX_CLIENT_SECRET, env.APP_SECRET],
    });
    const answer = call.answer as { member_id?: unknown } | null | undefined;
    pending.push({
      at: new Date(call.startedAt),
      portalId: call.portalId ?? null,
      host: new URL(call.url).host,
      // An OAuth answer names its portal; a call with a token we do not store is matched by the portal's host.
      memberId: typeof answer?.member_id === "string" ? answer.member_id : null,
      method: call.method.slice(0, 200),
      lane: call.lane ?? null,
      status: call.status,
      durationMs: Math.max(0, Date.now() - call.startedAt),
      errorCode: call.errorCode ?? errorCodeOf(call.answer),
      params: params!,
      response: response!,
    });
    if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
    if (pending.length >= FLUSH_ROWS) void flushRestLog();
    else if (!timer) {
      timer = setTimeout(() => void flushRestLog(), FLUSH_MS);
      timer.unref();
    }
  } catch (err) {
    log.debug({ err }, "REST call not logged");
  }
}

const ts = (d: Date) => Prisma.sql`${d.toISOString().slice(0, -1)}::timestamp`;

async function insert(rows: Row[]): Promise<void> {
  const values = rows.map(
    (r) => Prisma.sql`(${ts(r.at)}, ${r.portalId}::text, ${r.memberId}::text, ${r.host},
    ${r.method}, ${r.lane}::text, ${r.status}::int, ${r.durationMs}::int, ${r.errorCode}::text,
    ${r.params}, ${r.response})`,
  );
  try {
    await getDb().$executeRaw`
      INSERT INTO "RestLog" (at, "portalId", host, method, lane, status, "durationMs", "errorCode", params, response)
      SELECT v.at, COALESCE(v.p, (SELECT id FROM "Portal" WHERE "memberId" = v.m),
          (SELECT id FROM "Portal" WHERE domain = v.h ORDER BY status = 'active' DESC, "installedAt" DESC LIMIT 1)),
        v.h, v.method, v.lane, v.status, v.ms, v.code, v.params, v.response
      FROM (VALUES ${Prisma.join(values)}) AS v(at, p, m, h, method, lane, status, ms, code, params, response)`;
  } catch (err) {
    log.debug({ err, rows: rows.length }, "REST log rows not written");
  }
}

/** Writes what was recorded so far, and waits for writes already under way. */
export async function flushRestLog(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  const rows = pending;
  pending = [];
  for (let i = 0; i < rows.length; i += FLUSH_ROWS) {
    const done = insert(rows.slice(i, i + FLUSH_ROWS));
    writing.add(done);
    void done.finally(() => writing.delete(done));
  }
  await Promise.all([...writing]);
}

/** Deletes rows older than REST_LOG_DAYS, a batch per statement (no long lock on a busy table). */
export async function pruneRestLog(now = Date.now()): Promise<number> {
  const cutoff = new Date(now - loadEnv().REST_LOG_DAYS * 24 * 3600_000);
  let deleted = 0;
  for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
    const n = await getDb().$executeRaw`DELETE FROM "RestLog" WHERE id IN (
      SELECT id FROM "RestLog" WHERE at < ${ts(cutoff)} ORDER BY at LIMIT ${PRUNE_BATCH})`;
    deleted += n;
    if (n < PRUNE_BATCH) break;
  }
  return deleted;
}
