// Errors as Bitrix24 answers them: {error, error_description} with the HTTP statuses of docs/bitrix24.md#errors.
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

export const E = {
  noAuth: () => new RestError(401, "NO_AUTH_FOUND", "Wrong authorization data"),
  invalidToken: () => new RestError(401, "invalid_token", "Token expired or invalid"),
  expired: () => new RestError(401, "expired_token", "The access token provided has expired"),
  notFound: () => new RestError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"),
  denied: (d = "Access denied!") => new RestError(403, "ACCESS_DENIED", d),
  scope: () =>
    new RestError(
      403,
      "insufficient_scope",
      "The request requires higher privileges than provided by the access token",
    ),
  limit: () => new RestError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
  operating: () => new RestError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
  payment: () => new RestError(402, "PAYMENT_REQUIRED", "Payment required"),
  waiting: () => new RestError(401, "METHOD_CONFIRM_WAITING", "Waiting for confirmation"),
  confirmDenied: () => new RestError(403, "METHOD_CONFIRM_DENIED", "Method call denied"),
  wrongAuthType: () =>
    new RestError(
      403,
      "WRONG_AUTH_TYPE",
      "Current authorization type is denied for this method Application context required",
    ),
  arg: (msg: string, argument?: string) => new RestError(400, "ERROR_ARGUMENT", msg, argument ? { argument } : {}),
  notFoundEntity: (what: string) => new RestError(400, "ERROR_NOT_FOUND", `${what} is not found`),
  core: (msg: string) => new RestError(400, "ERROR_CORE", msg),
};
