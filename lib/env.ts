import { z } from "zod";

// The only reader of process.env. Parsed once, on first use; a bad value stops the process with a message that
// names the variable. Next.js calls loadEnv() at start-up (instrumentation.ts), the worker does the same.

const url = z.url({ protocol: /^https?$/ });
const csvUrls = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(url));
const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");

export const DEFAULT_OAUTH_SERVERS = ["https://oauth.bitrix.info", "https://oauth.bitrix24.tech"];

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  APP_URL: url,
  BITRIX_CLIENT_ID: z.string().min(1),
  BITRIX_CLIENT_SECRET: z.string().min(1),
  BITRIX_OAUTH_URL: url.default("https://oauth.bitrix.info"),
  BITRIX_OAUTH_ALLOWED: csvUrls.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  APP_SECRET: z.string().min(32, "must be at least 32 characters"),
  APP_SECRET_PREVIOUS: z.string().min(32, "must be at least 32 characters").optional(),
  BITRIX_ALLOW_HTTP: bool.default(false),
  BITRIX_APP_VERSION: z
    .string()
    .regex(/^\d+$/, "must be an integer version, as Bitrix24 numbers app versions")
    .default("1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WORKER_IN_WEB: bool.default(true),
  /** which lanes a worker process runs (lib/composition/run-worker.ts): all, or capture / background in processes of their own */
  WORKER_LANES: z.enum(["all", "capture", "background"]).default("all"),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  // The Bitrix24 Market asks for request logs of at least 3 days: a shorter window is a configuration error.
  REST_LOG_DAYS: z.coerce.number().int("must be a whole number of days").min(3, "must be at least 3 (days)").default(3),
});

export type Env = Omit<z.infer<typeof EnvSchema>, "BITRIX_OAUTH_ALLOWED"> & {
  /** origins (scheme://host[:port]) our client secret may be sent to */
  BITRIX_OAUTH_ALLOWED: string[];
};

let cached: Env | null = null;

export class EnvError extends Error {}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new EnvError(`Invalid configuration:\n${lines.join("\n")}\nSee .env.example.`);
  }
  const e = parsed.data;
  const allowed = new Set((e.BITRIX_OAUTH_ALLOWED ?? DEFAULT_OAUTH_SERVERS).map((u) => new URL(u).origin));
  allowed.add(new URL(e.BITRIX_OAUTH_URL).origin);
  return { ...e, BITRIX_OAUTH_ALLOWED: [...allowed] };
}

export function loadEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** An absolute URL of this app: APP_URL (with or without a trailing slash) joined with `path` ("/api/ping"). */
export function appUrl(path: string): string {
  return `${loadEnv().APP_URL.replace(/\/$/, "")}${path}`;
}

/** For tests that change process.env between cases. */
export function resetEnvForTests(): void {
  cached = null;
}
