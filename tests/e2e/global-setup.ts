// Playwright global setup for the full-stack specs: the production build of the app, the fake Bitrix24 with two
// portals (the app installed in both) and a fresh database. The portal runs on 127.0.0.1 and the app on localhost,
// so every app frame is cross-site, as on a real Bitrix24.
import { startStack } from "../../scripts/stack";
import { createRealDatabase } from "../support/test-db";

export default async function globalSetup() {
  if (process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL) {
    process.env.DATABASE_URL = await createRealDatabase(process.env.TEST_DATABASE_URL, "b24_e2e");
  }
  const stack = await startStack({
    mode: "prod",
    appPort: 3100,
    portalPort: 4100,
    oauthPort: 4110,
    portals: 2,
    deals: 60,
    latency: "0-20",
    ephemeralDb: true,
    log: process.env.E2E_VERBOSE ? (l) => console.log(l) : () => {},
  });
  process.env.E2E_APP_URL = stack.appUrl;
  process.env.E2E_PORTAL_URL = stack.portalUrls[0];
  process.env.E2E_PORTAL2_URL = stack.portalUrls[1];
  return async () => stack.stop();
}
