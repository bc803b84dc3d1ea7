import type { BitrixErrorKind } from "@/lib/bitrix/contract";

// Classified by the `error` CODE, never by the HTTP status: Bitrix24's statuses for the same error disagree across
// docs, server code and field reports (CONTRACTS.md §4.4, §15.3). Codes are case-sensitive in the wire format but
// compared upper-cased here because both conventions occur (`expired_token`, `QUERY_LIMIT_EXCEEDED`).
const KINDS: Record<string, BitrixErrorKind> = {
  EXPIRED_TOKEN: "auth",
  INVALID_TOKEN: "auth",
  NO_AUTH_FOUND: "auth",
  QUERY_LIMIT_EXCEEDED: "limit",
  OPERATION_TIME_LIMIT: "limit",
  OVERLOAD_LIMIT: "limit",
  METHOD_CONFIRM_WAITING: "confirmation",
  METHOD_CONFIRM_DENIED: "confirmation",
  PAYMENT_REQUIRED: "terminal",
  INVALID_GRANT: "terminal",
  WRONG_CLIENT: "terminal",
  INVALID_CLIENT: "terminal",
  APPLICATION_NOT_FOUND: "terminal",
  PORTAL_DELETED: "terminal",
  APP_DISABLED: "terminal",
  ERROR_METHOD_NOT_FOUND: "not_found",
  ERROR_NOT_FOUND: "not_found",
  NOT_FOUND: "not_found",
  ACCESS_DENIED: "access_denied",
  INSUFFICIENT_SCOPE: "access_denied",
  INVALID_SCOPE: "access_denied",
  USER_ACCESS_ERROR: "access_denied",
  WRONG_AUTH_TYPE: "access_denied",
  INVALID_CREDENTIALS: "access_denied",
  ALLOWED_ONLY_INTRANET_USER: "access_denied",
  INVALID_REQUEST: "invalid_request",
  ERROR_ARGUMENT: "invalid_request",
  ERROR_CORE: "invalid_request",
  ERROR_BATCH_LENGTH_EXCEEDED: "invalid_request",
  ERROR_BATCH_METHOD_NOT_ALLOWED: "invalid_request",
  CODE_EMPTY: "invalid_request",
};

export function classifyBitrixCode(code: string): BitrixErrorKind {
  const upper = code.toUpperCase();
  const known = KINDS[upper];
  if (known) return known;
  // REST v3 codes: BITRIX_REST_V3_EXCEPTION_<NAME>
  if (upper.includes("ACCESSDENIED") || upper.includes("INSUFFICIENTSCOPE")) return "access_denied";
  if (upper.includes("NOTFOUND") || upper.endsWith("_NOT_FOUND")) return "not_found";
  if (upper.includes("VALIDATION") || upper.includes("INVALID") || upper.includes("UNKNOWN")) return "invalid_request";
  return "unknown";
}

/** The one typed error for everything that goes wrong talking to Bitrix24 or its OAuth server. */
export class BitrixError extends Error {
  readonly kind: BitrixErrorKind;
  constructor(
    readonly code: string,
    readonly status: number,
    readonly description: string,
    readonly method?: string,
    kind?: BitrixErrorKind,
  ) {
    super(`${method ? `${method}: ` : ""}${code}${description ? ` — ${description}` : ""}${status ? ` (HTTP ${status})` : ""}`);
    this.name = "BitrixError";
    this.kind = kind ?? classifyBitrixCode(code);
  }

  get isExpiredToken(): boolean {
    return this.kind === "auth";
  }
}

export function isBitrixError(e: unknown, kind?: BitrixErrorKind): e is BitrixError {
  return e instanceof BitrixError && (kind === undefined || e.kind === kind);
}
