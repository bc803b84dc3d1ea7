import { requirePortalAdmin } from "@/lib/auth/session";
import { parseReplayBody, replayDeadEvents } from "@/lib/events/replay";
import { JSON_MAX_BYTES, readBodyLimited } from "@/lib/http/read-body";
import { route } from "@/lib/http/route";
import { audit } from "@/lib/lifecycle/audit";

// POST /api/admin/replay {ids?: string[]} — "Replay": the session's portal's dead-lettered events (those of `ids`,
// or all of them) go back to the queue once (lib/events/replay.ts). Ids of another portal's rows move nothing.
export const POST = route({ auth: requirePortalAdmin }, async ({ req, session: s }) => {
  const ids = parseReplayBody(new TextDecoder().decode(await readBodyLimited(req, JSON_MAX_BYTES)));
  const report = await replayDeadEvents(s.portalId, ids);
  await audit(s.memberId, s.portalId, "events.replayed", { userId: s.userId, count: report.replayed });
  return Response.json({ replayed: report.replayed, ids: report.ids.map(String) });
});
