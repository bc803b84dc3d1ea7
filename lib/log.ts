import pino from "pino";
import { loadEnv } from "@/lib/env";

// Structured JSON logs. Anything that looks like a token or a secret is redacted, wherever it sits.
const SECRET_KEYS = [
  "access_token",
  "refresh_token",
  "application_token",
  "auth",
  "AUTH_ID",
  "REFRESH_ID",
  "APPLICATION_TOKEN",
  "client_secret",
  "accessToken",
  "refreshToken",
  "applicationToken",
  "password",
  "secret",
  "token",
  "authorization",
  "webhookUrl",
];
const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

let logger: pino.Logger | null = null;

export function getLogger(): pino.Logger {
  logger ??= pino({
    level: loadEnv().LOG_LEVEL,
    base: { pid: process.pid },
    redact: { paths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  return logger;
}

export const log = {
  child: (bindings: Record<string, unknown>) => getLogger().child(bindings),
  info: (obj: object, msg?: string) => getLogger().info(obj, msg),
  warn: (obj: object, msg?: string) => getLogger().warn(obj, msg),
  error: (obj: object, msg?: string) => getLogger().error(obj, msg),
  debug: (obj: object, msg?: string) => getLogger().debug(obj, msg),
};
