// Child process for the comparison benchmarks: the official SDK's server client (B24OAuth) doing the same work as
// ours, against the same fake portal. Argument: JSON {mode, calls, auth, clientId, clientSecret, seconds}.
import { B24OAuth } from "@bitrix24/b24jssdk";

const arg = JSON.parse(process.argv[2]!) as {
  mode: "refresh" | "reads";
  calls: number;
  seconds: number;
  clientId: string;
  clientSecret: string;
  auth: {
    accessToken: string;
    refreshToken: string;
    expires: number;
    memberId: string;
    clientEndpoint: string;
    serverEndpoint: string;
    domain: string;
  };
};
const b24 = new B24OAuth(
  { applicationToken: "", userId: 1, expiresIn: 3600, scope: "crm", status: "L", ...arg.auth },
  { clientId: arg.clientId, clientSecret: arg.clientSecret },
);
b24.offClientSideWarning();

async function one(method: string, params: object) {
  return b24.actions.v2.call.make({ method, params });
}

if (arg.mode === "refresh") {
  const r = await Promise.allSettled(Array.from({ length: arg.calls }, () => one("user.current", {})));
  console.log(
    JSON.stringify({
      ok: r.filter((x) => x.status === "fulfilled").length,
      failed: r.filter((x) => x.status === "rejected").length,
    }),
  );
} else {
  let reads = 0;
  let failed = 0;
  const end = Date.now() + arg.seconds * 1000;
  let next = 1;
  while (Date.now() < end) {
    const calls = Array.from({ length: 50 }, () => ({ method: "crm.deal.get", params: { id: 1 + (next++ % 2000) } }));
    try {
      await b24.actions.v2.batch.make({ calls, options: { isHaltOnError: false } });
      reads += 50;
    } catch {
      failed++;
    }
  }
  console.log(JSON.stringify({ reads, failed }));
}
process.exit(0);
