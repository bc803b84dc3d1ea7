// Child process for the cross-process client tests: N concurrent calls through lib/bitrix against one portal.
// Run: tsx --conditions=react-server tests/support/bitrix-child.ts <portalId> <count> <method>
// A barrier: the child prints "ready" once its client is built (modules compiled, database connected) and starts its
// calls only when a line arrives on stdin — the parent releases every child at once, so their calls truly overlap
// however long each took to start.
import { once } from "node:events";
import readline from "node:readline";
import { bitrixFor } from "@/lib/bitrix";
import { disconnectDb } from "@/lib/db";

const [portalId, count, method] = process.argv.slice(2);
const client = await bitrixFor(portalId!);
const go = once(readline.createInterface({ input: process.stdin }), "line");
console.log("ready");
await go;
const results = await Promise.allSettled(Array.from({ length: Number(count) }, () => client.call(method!, {})));
const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
console.log(JSON.stringify({ ok: results.length - failed.length, failed }));
await disconnectDb();
process.exit(0); // stdin stays open: the readline interface would keep the process alive
