// `npm run fake-portal -- --port 4000 --oauth-port 4001 --app-url http://localhost:3000 --deals 1000 --latency 100-300`
// `--box` serves self-hosted portals instead of cloud ones (box.ts); `--box-lang ru` their language.
// Prints {"oauthUrl": …, "portals": [...]} on one line when ready; SIGTERM/SIGINT stop it.
import { parseArgs } from "node:util";
import { startFakeBitrix } from "./index";

const { values: v } = parseArgs({
  options: {
    port: { type: "string", default: "4000" },
    "oauth-port": { type: "string" },
    portals: { type: "string", default: "1" },
    "app-url": { type: "string", default: "http://localhost:3000" },
    "client-id": { type: "string", default: "local.devapp000000000.00000000" },
    "client-secret": { type: "string", default: "dev-client-secret" },
    deals: { type: "string", default: "100" },
    contacts: { type: "string", default: "20" },
    companies: { type: "string", default: "10" },
    leads: { type: "string", default: "20" },
    latency: { type: "string", default: "100-300" },
    version: { type: "string", default: "1" },
    box: { type: "boolean", default: false },
    "box-lang": { type: "string" },
  },
});
const port = Number(v.port);
const [lo, hi] = String(v.latency).split("-").map(Number);
const running = await startFakeBitrix({
  port,
  oauthPort: v["oauth-port"] ? Number(v["oauth-port"]) : port === 0 ? 0 : port + 1,
  portals: Number(v.portals),
  app: {
    clientId: String(v["client-id"]),
    clientSecret: String(v["client-secret"]),
    appUrl: String(v["app-url"]),
    version: Number(v.version),
  },
  seed: {
    deals: Number(v.deals),
    contacts: Number(v.contacts),
    companies: Number(v.companies),
    leads: Number(v.leads),
  },
  latencyMs: [lo ?? 0, hi ?? lo ?? 0],
  ...(v.box ? { box: v["box-lang"] ? { lang: String(v["box-lang"]) } : true } : {}),
});
console.log(JSON.stringify({ oauthUrl: running.oauthUrl, portals: running.portals }));
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => void running.stop().then(() => process.exit(0)));
