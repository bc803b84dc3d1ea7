import { z } from "zod";
import { readJsonBody } from "@/lib/http/read-body";
import { type AppError, toErrorResponse } from "@/lib/http-errors";

// The one route wrapper (as dub's withWorkspace): every handler under app/ is `route(spec, handler)`, one expression.
// In this order, so an unauthenticated request costs nothing:
//   1. `auth` — the guard of lib/auth that the route names (a user's session, an admin's re-checked session, an API
//      token); it throws the 401/403. No `auth`: a public route (it authenticates itself, e.g. a signed form).
//   2. `params`, `query`, `body` — zod schemas; the JSON body is read with readJsonBody (at most JSON_MAX_BYTES, 413
//      beyond; empty or malformed reads as {} so the schema names the missing field).
//   3. the handler, with the session and the parsed input.
// Anything thrown becomes the answer through toErrorResponse (lib/http-errors.ts): AppError → its status and
// {error, message}, zod → 400 naming the field (or the route's own `invalid` mapping), anything else → 500, logged.
// The guard is passed in, not chosen by a string, so the route's own source names what it checks (the security
// suites read it: tests/support/routes.ts) and this module depends on no domain.

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<A, B extends Schema, Q extends Schema, P extends Schema> {
  /** who may call: a guard that returns the caller or throws (401/403); none ⇒ the route is public */
  auth?: (req: Request) => Promise<A>;
  /** the dynamic segments (`[id]`) */
  params?: P;
  /** the search parameters, as an object of strings */
  query?: Q;
  /** the JSON body */
  body?: B;
  /** a bad `query` or `body` as an error of the route's own (default: 400 invalid_request naming the field) */
  invalid?: (error: z.ZodError) => AppError;
}

export interface RouteContext<A, B extends Schema, Q extends Schema, P extends Schema> {
  req: Request;
  /** what `auth` returned; null on a public route */
  session: A;
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

/** `[id]` routes: the segment as a string. */
export const IdParams = z.object({ id: z.string() });

function parse<S extends Schema>(schema: S, value: unknown, invalid?: (error: z.ZodError) => AppError): Out<S> {
  if (!schema) return undefined as Out<S>;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as Out<S>;
  throw invalid ? invalid(parsed.error) : parsed.error;
}

export function route<
  A = null,
  B extends Schema = undefined,
  Q extends Schema = undefined,
  P extends Schema = undefined,
>(
  spec: RouteSpec<A, B, Q, P>,
  handler: (ctx: RouteContext<A, B, Q, P>) => Promise<Response> | Response,
): (req: Request, ctx?: { params: Promise<Record<string, string | string[]>> }) => Promise<Response> {
  return async (req, ctx) => {
    try {
      const session = spec.auth ? await spec.auth(req) : (null as A);
      const params = parse(spec.params as P, spec.params ? await ctx?.params : undefined);
      const query = parse(
        spec.query as Q,
        spec.query ? Object.fromEntries(new URL(req.url).searchParams) : undefined,
        spec.invalid,
      );
      const body = parse(spec.body as B, spec.body ? await readJsonBody(req) : undefined, spec.invalid);
      return await handler({ req, session, params, query, body });
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
