import type { BitrixErrorKind } from "@/lib/bitrix/contract";

// Classified by the `error` CODE, never by the HTTP status: Bitrix24's statuses for the same error disagree across
// docs, server code and field reports (docs/bitrix24.md#errors). Codes are case-sensitive in the wire format but
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
  WRONG_CLIENT: "config",
  INVALID_CLIENT: "config",
  OAUTH_SERVER_NOT_ALLOWED: "config",
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

// The classic CRM methods (crm.deal.get/update/delete, …) throw RestException without a code, so the wire error is
// `{"error":"","error_description":"Not found"}` with HTTP 400 — also per command inside batch `result_error`
// (b24restdocs api-reference/crm/deals/crm-deal-get.md and crm-deal-update.md "Possible Error Codes": "Empty value").
// Such an error is classified by its description; the code we give it is derived, the description kept as sent.
const EMPTY_CODE_DESCRIPTIONS: [RegExp, string][] = [
  [/^not found\b/i, "NOT_FOUND"],
  [/^access denied\b/i, "ACCESS_DENIED"],
];
/** The code of an error Bitrix24 sent with an empty `error` (anything unrecognised is a rejected request). */
export const EMPTY_CODE_FALLBACK = "ERROR_WITHOUT_CODE";

export function codeForEmptyError(description: string): string {
  const text = description.trim();
  return EMPTY_CODE_DESCRIPTIONS.find(([re]) => re.test(text))?.[1] ?? EMPTY_CODE_FALLBACK;
}

/** The one typed error for everything that goes wrong talking to Bitrix24 or its OAuth server. */
export class BitrixError extends Error {
  readonly kind: BitrixErrorKind;
  readonly code: string;
  constructor(
    code: string,
    readonly status: number,
    readonly description: string,
    readonly method?: string,
    kind?: BitrixErrorKind,
  ) {
    const derived = code.trim() ? code : codeForEmptyError(description);
    const where = method ? `${method}: ` : "";
    super(`${where}${derived}${description ? ` — ${description}` : ""}${status ? ` (HTTP ${status})` : ""}`);
    this.name = "BitrixError";
    this.code = derived;
    this.kind = kind ?? (derived === EMPTY_CODE_FALLBACK ? "invalid_request" : classifyBitrixCode(derived));
  }

  get isExpiredToken(): boolean {
    return this.kind === "auth";
  }
}

export function isBitrixError(e: unknown, kind?: BitrixErrorKind): e is BitrixError {
  return e instanceof BitrixError && (kind === undefined || e.kind === kind);
}

/**
 * The record (or other object) a method was asked about does not exist: `NOT_FOUND`, `ERROR_NOT_FOUND`, the CRM's
 * empty-code "Not found", … — but not `ERROR_METHOD_NOT_FOUND`, which says the method itself is missing.
 */
export function isNotFound(e: unknown): e is BitrixError {
  return isBitrixError(e, "not_found") && e.code.toUpperCase() !== "ERROR_METHOD_NOT_FOUND";
}

/** The caller may not do this: `ACCESS_DENIED`, the CRM's empty-code "Access denied.", a missing scope, … */
export function isAccessDenied(e: unknown): e is BitrixError {
  return isBitrixError(e, "access_denied");
}
