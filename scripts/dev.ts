// `npm run dev`: everything on embedded defaults — database, fake Bitrix24 with the app installed and a seeded CRM,
// the app (web + worker). Ctrl+C stops it all.
import { DatabaseConnectError } from "@/lib/db-check";
import { startStack } from "./stack";

const stack = await startStack({
  mode: process.argv.includes("--prod") ? "prod" : "dev",
  appPort: Number(process.env.PORT ?? 3000),
  portalPort: 4000,
  oauthPort: 4001,
  deals: Number(process.env.SEED_DEALS ?? 500),
}).catch((error: unknown) => {
  // a DATABASE_URL that does not connect: its one clear line (host, database, cause), not a stack trace
  if (!(error instanceof DatabaseConnectError)) throw error;
  console.error(`[dev] ${error.message}`);
  process.exit(1);
});
console.log(`
  Ready.
  Bitrix24 portal (fake): ${stack.portalUrls[0]}/          ← open this; ?user=2 is a non-admin
  App settings:           ${stack.portalUrls[0]}/marketplace/app/
  A deal card:            ${stack.portalUrls[0]}/crm/deal/details/1/
  The app itself:         ${stack.appUrl}
  OAuth server (fake):    ${stack.oauthUrl}
`);
const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
