import { ZodError } from "zod";
import { log } from "@/lib/log";

// One error mapper for route handlers (DUB handleApiError): validation → 400 naming the field, AppError → its
// status, anything else → 500 with a generic message (details only in the log).

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export function toErrorResponse(error: unknown): Response {
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message }));
    return Response.json(
      { error: "invalid_request", message: `Invalid ${issues[0]?.field}: ${issues[0]?.message}`, issues },
      { status: 400 },
    );
  }
  if (error instanceof AppError) {
    // A rate limit (lib/api/tokens.ts) says when to come back, in the body and in Retry-After.
    const retry = error.details?.retryAfterS;
    const headers = typeof retry === "number" ? { "retry-after": String(retry) } : undefined;
    return Response.json(
      { error: error.code, message: error.message, ...error.details },
      { status: error.status, headers },
    );
  }
  log.error({ err: error }, "unhandled error in route");
  return Response.json({ error: "internal_error", message: "Internal error" }, { status: 500 });
}
