// The database check every entry point runs before it starts (scripts/with-db.ts for `npm start` and the CLI tools,
// lib/composition/main.ts for a worker, scripts/stack.ts through with-db for `npm run dev`): a connection that fails is
// reported once, plainly — host, port, database, user and cause, never the password. Left to the tools, some
// failures read "Error: External error id#0" (Prisma's schema engine, for a pg error without an SQLSTATE, e.g. a
// DATABASE_URL without a password when the server asks for one), others are bare codes ("connect ECONNREFUSED") or,
// for `localhost` (tried over IPv6 and IPv4), an AggregateError with an empty message; and a worker retried for ever.
// No "server-only" here: the launch scripts import it under plain tsx.
import pg from "pg";

export class DatabaseConnectError extends Error {
  override name = "DatabaseConnectError";
}

interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

type PgError = { code?: string; message?: string; errors?: unknown[] };

/** Why the connection failed, in words an operator can act on. */
function cause(error: unknown, t: Target, password: string): string {
  const e = (error ?? {}) as PgError;
  // net.connect to a name with several addresses (localhost: ::1 and 127.0.0.1) fails with every attempt's error
  if (error instanceof AggregateError && error.errors.length) return cause(error.errors.at(-1), t, password);
  // text from elsewhere (the server, the driver) is quoted only with the password masked, should it ever echo it
  const raw = e.message ?? String(error);
  const message = password ? raw.split(password).join("***") : raw;
  switch (e.code) {
    case "28P01":
      return `password authentication failed for user "${t.user}" (wrong password)`;
    case "28000":
      return `the server does not admit user "${t.user}" from here (${message})`;
    case "3D000":
      return `database "${t.database}" does not exist on the server`;
    case "ECONNREFUSED":
      return `connection refused: nothing listens on ${t.host}:${t.port} (server down, or wrong host or port)`;
    case "ENOTFOUND":
      return `unknown host "${t.host}" (the name does not resolve)`;
    case "EAI_AGAIN":
      return `the host name "${t.host}" could not be resolved (DNS unavailable)`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${t.host}:${t.port} cannot be reached (${e.code})`;
  }
  if (/client password must be a string/.test(message)) return "the server asks for a password; DATABASE_URL has none";
  if (/timeout/i.test(message)) return `no answer from ${t.host}:${t.port} within ${CONNECT_TIMEOUT_MS / 1000} s`;
  if (/does not support SSL/i.test(message)) return "the server does not support SSL (drop sslmode from DATABASE_URL)";
  return e.code ? `${message} (${e.code})` : message;
}

/** A message naming where we tried to connect and why it failed; the password never appears in it. */
export function describeConnectError(error: unknown, t: Target, password = ""): string {
  const where = `the database "${t.database}" at ${t.host}:${t.port} as user "${t.user}"`;
  return `Cannot connect to ${where}: ${cause(error, t, password)}. Check DATABASE_URL.`;
}

/** Connects once and runs `SELECT 1`; throws DatabaseConnectError with a clear message when that fails. */
export async function checkDatabase(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  } catch {
    throw new DatabaseConnectError("DATABASE_URL is not a valid postgresql:// connection URL");
  }
  const target = { host: client.host, port: client.port, database: client.database ?? "", user: client.user ?? "" };
  client.on("error", () => undefined); // a failed connect also emits 'error'; the rejection below reports it
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new DatabaseConnectError(describeConnectError(error, target, client.password ?? ""));
  } finally {
    await client.end().catch(() => undefined);
  }
}
