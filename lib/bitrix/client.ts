import "server-only";
import type { BitrixClient, CallOptions, CallResult, PortalRef } from "@/lib/bitrix/contract";
import { BitrixError } from "@/lib/bitrix/errors";
import { assertAllowedUrl, joinUrl, sendJson, toCallResult } from "@/lib/bitrix/http";
import { acquireSlot, blockPortal, methodPauseMs, pauseMethod, recordOperating } from "@/lib/bitrix/limiter";
import { limitBackoffMs, limitPolicy } from "@/lib/bitrix/limits";
import { refreshTokens } from "@/lib/bitrix/refresh";
import type { RestLogContext } from "@/lib/bitrix/rest-log";
import { batchVia, listFast, listPaged } from "@/lib/bitrix/paging";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";
import { bumpMetric } from "@/lib/metrics/bump";
import { flagTokensProblem, markPortalTerminal } from "@/lib/portals/portals";
import { loadTokens, type TokenSnapshot } from "@/lib/portals/tokens";
import { effectiveLane } from "@/lib/bitrix/call-lane";
import { sleep } from "@/lib/sleep";

const MAX_TRANSIENT_RETRIES = 2;
/** Methods Bitrix24 lets only an admin's token call (event.offline.*, event.bind/unbind, placement.*). */
const ADMIN_METHODS = /^(event\.(offline\.|bind|unbind)|placement\.(bind|unbind|get))/i;
const READ_SUFFIX =
  /\.(get|list|fields|current|admin|info|search|getlist|getfields|getchildren|types)$|^(scope|methods|method\.get|feature\.get|profile|server\.time|events|event\.get|placement\.get|placement\.list|app\.option\.get)$/i;

/** Reads and idempotent calls may be retried after a timeout; a write may have succeeded (crm.*.add) — never blindly. */
export function isIdempotent(method: string, opts?: CallOptions): boolean {
  return opts?.idempotent ?? READ_SUFFIX.test(method);
}

export function endpointFor(clientEndpoint: string, method: string, version: 2 | 3 = 2): string {
  const base = assertAllowedUrl(clientEndpoint, "client_endpoint");
  return version === 3 ? joinUrl(base.origin, `/rest/api/${method}`) : joinUrl(base.toString(), method);
}

/** One raw call with a given token (no refresh, no limiter) — shared by the portal client and callWithToken. */
export async function rawCall<T>(
  clientEndpoint: string,
  token: string | null,
  method: string,
  params: Record<string, unknown>,
  opts: CallOptions = {},
  logAs: RestLogContext = { lane: opts.lane }, // what the REST log records about the caller (lib/bitrix/rest-log.ts)
): Promise<CallResult<T>> {
  if (method.toLowerCase() === "batch" && Array.isArray(params.cmd))
    throw new BitrixError("ERROR_BATCH_METHOD_NOT_ALLOWED", 0, "nested batch", method);
  const body = token ? { ...params, auth: token } : { ...params };
  if (opts.authConnector) Object.assign(body, { auth_connector: opts.authConnector });
  const url = endpointFor(clientEndpoint, method, opts.version);
  const raw = await sendJson(url, body, { signal: opts.signal, method, log: logAs });
  return toCallResult<T>(raw, method);
}

class PortalClient implements BitrixClient {
  private tokens: TokenSnapshot | null = null;
  constructor(readonly portal: PortalRef) {}

  private async currentTokens(): Promise<TokenSnapshot> {
    this.tokens ??= await loadTokens(this.portal.id);
    if (!this.tokens) throw new BitrixError("NO_TOKENS", 0, "no stored tokens for this portal", undefined, "terminal");
    // Refresh ahead of a known expiry rather than spending a request on expired_token.
    if (this.tokens.expiresAt.getTime() - 30_000 < Date.now())
      this.tokens = await refreshTokens(this.portal.id, this.tokens.version, this.portal.serverEndpoint);
    return this.tokens;
  }

  async call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<CallResult<T>> {
    const lane = effectiveLane(opts.lane);
    const started = Date.now();
    let refreshed = false;
    let limitRetries = 0;
    let transientRetries = 0;
    for (;;) {
      const pause = await methodPauseMs(this.portal.id, method);
      if (pause > 0) {
        if (lane === "interactive")
          throw new BitrixError(
            "OPERATION_TIME_LIMIT",
            429,
            `paused for ${Math.ceil(pause / 1000)} s to stay under the operating limit`,
            method,
          );
        await sleep(pause, opts.signal);
      }
      await acquireSlot(this.portal.id, lane, opts.signal);
      const tokens = await this.currentTokens();
      try {
        const logAs = { portalId: this.portal.id, lane };
        const res = await rawCall<T>(tokens.clientEndpoint, tokens.accessToken, method, params, opts, logAs);
        await recordOperating(this.portal.id, method, res.time?.operating, res.time?.operating_reset_at);
        bumpMetric(this.portal.id, "rest.calls");
        log.debug({ portalId: this.portal.id, method, ms: Date.now() - started, outcome: "ok" }, "bitrix call");
        return res;
      } catch (e) {
        if (!(e instanceof BitrixError)) throw e;
        const retryIn = await this.handleError(e, method, opts, { refreshed, limitRetries, transientRetries }, tokens);
        log.info(
          { portalId: this.portal.id, method, code: e.code, ms: Date.now() - started, retryIn },
          "bitrix call failed",
        );
        if (retryIn === null) throw e;
        if (e.kind === "auth" || e.code === "PORTAL_MOVED") refreshed = true;
        else if (e.kind === "limit") limitRetries++;
        else transientRetries++;
        bumpMetric(this.portal.id, "rest.retries");
        if (retryIn > 0) await sleep(retryIn, opts.signal);
      }
    }
  }

  /** Decides what an error means: ms to wait before retrying, or null to give up (after side effects). */
  private async handleError(
    e: BitrixError,
    method: string,
    opts: CallOptions,
    s: { refreshed: boolean; limitRetries: number; transientRetries: number },
    tokens: TokenSnapshot,
  ): Promise<number | null> {
    // A moved portal's old address answers 302; the OAuth server's refresh answer names the new one (refresh.ts).
    if ((e.kind === "auth" || e.code === "PORTAL_MOVED") && !s.refreshed) {
      this.tokens = await refreshTokens(this.portal.id, tokens.version, this.portal.serverEndpoint);
      return 0;
    }
    if (e.code === "QUERY_LIMIT_EXCEEDED" || e.code === "OVERLOAD_LIMIT") {
      bumpMetric(this.portal.id, "rest.limit_hits");
      if (s.limitRetries >= limitPolicy.maxRetries) {
        throw new BitrixError(
          e.code,
          e.status,
          `gave up after ${s.limitRetries + 1} attempts: ${e.description}`,
          method,
        );
      }
      const wait = limitBackoffMs(s.limitRetries);
      await blockPortal(this.portal.id, new Date(Date.now() + wait));
      return 0; // acquireSlot waits out the block, shared with every other process
    }
    if (e.code === "OPERATION_TIME_LIMIT") {
      const until = new Date(Date.now() + 60_000);
      await pauseMethod(this.portal.id, method, until);
      return effectiveLane(opts.lane) === "interactive" || s.limitRetries >= limitPolicy.maxRetries ? null : 0;
    }
    if (e.kind === "terminal") {
      await markPortalTerminal(
        this.portal.id,
        e.code.toUpperCase() === "PAYMENT_REQUIRED" ? "payment_required" : "disabled",
        e.code,
      );
      return null;
    }
    // Methods only an admin's token may call, refused: the admin whose tokens we hold lost admin rights. Reads still
    // work; the admin page says so, and the next admin to open the app re-arms it (lib/portals/rearm.ts).
    if (e.kind === "access_denied" && ADMIN_METHODS.test(method))
      await flagTokensProblem(this.portal.id, "token_owner_not_admin");
    const transient = e.kind === "network" || e.code === "INTERNAL_SERVER_ERROR";
    if (transient && isIdempotent(method, opts) && s.transientRetries < MAX_TRANSIENT_RETRIES)
      return 500 * 2 ** s.transientRetries;
    return null;
  }

  batch = batchVia(this);
  list = listFast(this);
  listPaged = listPaged(this);
}

const PORTAL_FIELDS = { id: true, memberId: true, clientEndpoint: true, serverEndpoint: true, status: true } as const;

/** The client for one installed portal. Refuses portals whose status stops all work (terminal states). */
export async function bitrixFor(portal: PortalRef | string): Promise<BitrixClient> {
  const row = await getDb().portal.findUnique({
    where: { id: typeof portal === "string" ? portal : portal.id },
    select: PORTAL_FIELDS,
  });
  if (!row) throw new BitrixError("PORTAL_NOT_FOUND", 0, "unknown portal", undefined, "terminal");
  if (row.status !== "active")
    throw new BitrixError(
      `PORTAL_${row.status.toUpperCase()}`,
      0,
      `work is stopped for this portal (${row.status})`,
      undefined,
      "terminal",
    );
  return new PortalClient(row);
}

/**
 * A call with a token we do not store (the frame's AUTH_ID, an event's or installer's access_token): no refresh,
 * to an endpoint the caller took from our database or from the OAuth server — never from a request body alone.
 */
export async function callWithToken<T = unknown>(
  clientEndpoint: string,
  accessToken: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: CallOptions = {},
): Promise<CallResult<T>> {
  return rawCall<T>(clientEndpoint, accessToken, method, params, opts);
}
