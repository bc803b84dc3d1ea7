// Child process for the cross-process client tests: N concurrent calls through lib/bitrix against one portal.
// Run: tsx --conditions=react-server tests/support/bitrix-child.ts <portalId> <count> <method>
import { bitrixFor } from "@/lib/bitrix";
import { disconnectDb } from "@/lib/db";

const [portalId, count, method] = process.argv.slice(2);
const client = await bitrixFor(portalId!);
const results = await Promise.allSettled(Array.from({ length: Number(count) }, () => client.call(method!, {})));
const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
console.log(JSON.stringify({ ok: results.length - failed.length, failed }));
await disconnectDb();
