// One fake Bitrix24 portal in a process of its own (bench/crm-env.ts startPortals `apart`): the fairness bench's big
// portal, whose million records, answers and garbage collection would otherwise stall the one process that serves
// every small portal — where real portals are separate servers. Reads its set-up from the environment, fills the
// records, prints one JSON line with its addresses, and serves until SIGTERM.
import { startFakeBitrix } from "../tests/fake-portal/index";
import { fillLegacy } from "./crm-env";

const seed = JSON.parse(process.env.FAKE_CHILD_SEED ?? "{}") as Record<string, number>;
const contacts = Number(process.env.FAKE_CHILD_CONTACTS ?? 0);
const fake = await startFakeBitrix({
  portals: 1,
  seed,
  app: {
    clientId: process.env.BITRIX_CLIENT_ID!,
    clientSecret: process.env.BITRIX_CLIENT_SECRET!,
    appUrl: process.env.APP_URL!,
  },
});
const portal = fake.fake.portals[0]!;
if (contacts > 0) fillLegacy(portal, "contact", contacts);
process.stdout.write(
  `${JSON.stringify({ baseUrl: fake.portals[0]!.baseUrl, memberId: portal.memberId, oauthUrl: fake.oauthUrl })}\n`,
);
const stop = () => void fake.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
