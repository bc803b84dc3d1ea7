// Runs in every test worker before each test file: test configuration and this worker's own database.
import { testDatabaseUrl } from "./test-db";

const defaults: Record<string, string> = {
  NODE_ENV: "test",
  APP_URL: "http://localhost:3999",
  BITRIX_CLIENT_ID: "local.test0000000000.00000000",
  BITRIX_CLIENT_SECRET: "test-client-secret-0123456789abcdef",
  APP_SECRET: "test-app-secret-0123456789abcdef0123456789",
  BITRIX_ALLOW_HTTP: "1",
  LOG_LEVEL: "silent",
};
for (const [k, v] of Object.entries(defaults)) process.env[k] ??= v;
process.env.DATABASE_URL = await testDatabaseUrl();
