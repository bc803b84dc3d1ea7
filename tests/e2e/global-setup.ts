// Playwright global setup for the full-stack specs: the production build of the app, the fake Bitrix24 with two
// portals (the app installed in both) and a fresh database. The portal runs on 127.0.0.1 and the app on localhost,
// so every app frame is cross-site, as on a real Bitrix24.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startStack } from "../../scripts/stack";
import { createRealDatabase } from "../support/test-db";

export default async function globalSetup() {
  if (process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL) {
    process.env.DATABASE_URL = await createRealDatabase(process.env.TEST_DATABASE_URL, "b24_e2e");
  }
  // Every line the stack prints — the app at debug level from its first line, migrations, the fake — goes to a file
  // (test-results/ is emptied before this runs), so tests/e2e/security.spec.ts can check that no line carries a
  // secret. E2E_VERBOSE prints the lines as well.
  const logFile = path.resolve("test-results", "stack.log");
  mkdirSync(path.dirname(logFile), { recursive: true });
  writeFileSync(logFile, "");
  process.env.E2E_LOG_FILE = logFile;
  process.env.LOG_LEVEL = "debug";
  const portShift = Number(process.env.E2E_PORT_SHIFT ?? 0);
  const stack = await startStack({
    mode: "prod",
    // E2E_PORT_SHIFT moves the three ports together (a second checkout's run beside this one): 3100/4100/4110 by default.
    appPort: 3100 + portShift,
    portalPort: 4100 + portShift,
    oauthPort: 4110 + portShift,
    portals: 2,
    deals: 60,
    latency: "0-20",
    ephemeralDb: true,
    log: (l) => {
      appendFileSync(logFile, `${l}\n`);
      if (process.env.E2E_VERBOSE) console.log(l);
    },
  });
  process.env.E2E_APP_URL = stack.appUrl;
  process.env.E2E_PORTAL_URL = stack.portalUrls[0];
  process.env.E2E_PORTAL2_URL = stack.portalUrls[1];
  // What the security spec needs to recognise a leaked secret: the app's secrets and the database with its tokens.
  process.env.E2E_STACK_SECRETS = JSON.stringify({
    APP_SECRET: stack.env.APP_SECRET,
    BITRIX_CLIENT_SECRET: stack.env.BITRIX_CLIENT_SECRET,
    DATABASE_URL: stack.env.DATABASE_URL,
  });
  return async () => stack.stop();
}
