// `npm run replay -- <portal>`: the portal's dead-lettered events (given by member_id or domain) go back to the
// queue once, as the admin page's Replay does (lib/events/replay.ts); a worker processes them.
import { disconnectDb, getDb } from "@/lib/db";
import { replayDeadEvents } from "@/lib/events/replay";
import { audit } from "@/lib/lifecycle/audit";

const arg = process.argv[2]?.trim();
if (!arg) {
  console.error("usage: npm run replay -- <portal member_id or domain>");
  process.exit(2);
}
const domain = arg
  .replace(/^https?:\/\//, "")
  .replace(/\/+$/, "")
  .toLowerCase();
const found = await getDb().portal.findMany({
  where: { OR: [{ memberId: arg }, { domain: { equals: domain, mode: "insensitive" } }] },
  select: { id: true, memberId: true, domain: true },
});
const portal = found.find((p) => p.memberId === arg) ?? (found.length === 1 ? found[0] : undefined);
if (!portal) {
  console.error(
    found.length
      ? `several portals have the domain "${arg}": give the member_id (${found.map((p) => p.memberId).join(", ")})`
      : `unknown portal "${arg}": give its member_id or domain (e.g. example.bitrix24.com)`,
  );
  await disconnectDb();
  process.exit(1);
}
const { replayed } = await replayDeadEvents(portal.id);
await audit(portal.memberId, portal.id, "events.replayed", { by: "cli", count: replayed });
console.log(`replayed ${replayed} dead-lettered event${replayed === 1 ? "" : "s"} of ${portal.domain}`);
await disconnectDb();
