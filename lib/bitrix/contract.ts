// The public surface of lib/bitrix that the rest of the app codes against (lifecycle, events, history, auth).
// lib/bitrix/index.ts implements it; keep these names and shapes stable.

/**
 * The share of a portal's one rate budget a call draws from: interactive (a user waits), capture (live edits being
 * recorded) and background (backfills, sweeps). A worker's capture lane runs its calls as capture without each caller
 * saying so (lib/bitrix/call-lane.ts).
 */
export type Lane = "interactive" | "capture" | "background";

/** The portal-side facts a call needs; read from the Portal row (never from a request body). */
export interface PortalRef {
  id: string;
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string;
}

export interface B24Time {
  start?: number;
  finish?: number;
  duration?: number;
  processing?: number;
  date_start?: string;
  date_finish?: string;
  operating?: number;
  operating_reset_at?: number | null;
}

export interface CallResult<T = unknown> {
  result: T;
  total?: number;
  next?: number;
  time?: B24Time;
}

export interface CallOptions {
  /** interactive = a user waits in the iframe; background = workers/backfill (capture when run in the worker's
   *  capture lane, lib/bitrix/call-lane.ts). Same budget, separate lanes. */
  lane?: Lane;
  /** true for reads and idempotent writes: retried after a timeout. Default: inferred from the method name. */
  idempotent?: boolean;
  /** Adds auth_connector to the call so our own write raises no offline event for our connector. */
  authConnector?: string;
  /** REST v3 (/rest/api/<method>, JSON body). Default 2. */
  version?: 2 | 3;
  signal?: AbortSignal;
}

export type BatchCommands = Record<string, [method: string, params?: Record<string, unknown>]>;

export interface BatchResult {
  result: Record<string, unknown>;
  errors: Record<string, { error: string; error_description: string }>;
  total: Record<string, number>;
  next: Record<string, number>;
}

/** What a single call needs: the app's client (bitrixFor) or a user's own token (lib/auth/user-rights.ts). */
export interface BitrixCaller {
  readonly portal: PortalRef;
  call<T = unknown>(method: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<CallResult<T>>;
}

export interface BitrixClient {
  readonly portal: PortalRef;
  call<T = unknown>(method: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<CallResult<T>>;
  /** ≤ 50 commands per request (bigger inputs are chunked; `$result[...]` refs only within a chunk). */
  batch(cmds: BatchCommands, opts?: CallOptions & { halt?: boolean }): Promise<BatchResult>;
  /** Fast pattern: order {ID: ASC}, filter {'>ID': last}, start -1; yields pages (≤ 50 items). */
  list<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    opts?: CallOptions & { idKey?: string; itemsKey?: string },
  ): AsyncIterable<T[]>;
  /** Classic start/next paging for methods that need it. */
  listPaged<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    opts?: CallOptions,
  ): AsyncIterable<T[]>;
}

export type BitrixErrorKind =
  | "auth"
  | "limit"
  | "confirmation"
  | "terminal"
  /** our own configuration is wrong (client id/secret, OAuth allow-list): an app-wide alert, no portal's fault */
  | "config"
  | "not_found"
  | "access_denied"
  | "invalid_request"
  | "network"
  | "malformed"
  | "unknown";

/** What the OAuth server answers to a token grant (authorization_code or refresh_token), validated. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  scope: string[];
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string;
  domain: string | null;
  userId: number | null;
  status: string | null;
}

/**
 * The app's auth_connector: its offline bindings and `event.offline.*` reads name it, and its own writes (reverts)
 * carry it, so the events they cause do not come back to the app (docs/bitrix24.md#offline-events).
 */
export const AUTH_CONNECTOR = "change_history";
