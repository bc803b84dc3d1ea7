// Child process for the throughput benchmark: our client reading deals with batch (50 gets per request) for N seconds.
import { bitrixFor } from "@/lib/bitrix";
import { disconnectDb } from "@/lib/db";

const [portalId, seconds] = process.argv.slice(2);
const client = await bitrixFor(portalId!);
const end = Date.now() + Number(seconds) * 1000;
let reads = 0;
let failed = 0;
let next = 1;
while (Date.now() < end) {
  const cmds = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [
      `d${i}`,
      ["crm.deal.get", { id: 1 + (next++ % 2000) }] as [string, Record<string, unknown>],
    ]),
  );
  try {
    const r = await client.batch(cmds, { lane: "background" });
    reads += Object.keys(r.result).length;
  } catch {
    failed++;
  }
}
console.log(JSON.stringify({ reads, failed }));
await disconnectDb();
