// How each API route (and each page with a plan: the CRM placements) is meant to be reached — the attack plan of the
// security suites. security-routes.test.ts fails on an API route found on disk without an entry here;
// security-sessions.test.ts runs the session attacks of every "admin"/"session" entry.
// "admin"/"session" routes get the full session attack, pointed at both portals' objects; "crossStatus" is the answer
// when portal A's admin points at portal B's; "proof" shows the same request works on A's own objects (it reaches A,
// shows A's data, or writes A's rows). Each portal's data carries its own markers (MARKS), so portal B's cannot pass
// unnoticed.
import type { SendOptions } from "./security-env";

export type Objects = {
  portal: number;
  portalId: string;
  memberId: string;
  pendingId: string;
  changeId: string;
  recordId: number;
  apiTokenId: string;
  watchRuleId: string;
  exportId: string;
};
export type Guarded = {
  access: "admin" | "session";
  via?: "bearer" | "st";
  request: (o: Objects) => SendOptions;
  crossStatus: number;
  proof: "rest" | "content" | "write";
};
export const MARKS = (i: number) => [`private-old-${i}`, `private-new-${i}`, `"processed":${7770 + i}`];
export type Attack = Guarded | { access: "frame" | "bitrix" | "public" | "http-only" | "api-token"; why: string };
const own = (o: Objects) => ({ portalId: o.portalId, member_id: o.memberId });
const record = (o: Objects): SendOptions => ({
  method: "GET",
  via: "st",
  query: `?entity=deal&id=${o.recordId}&portalId=${own(o).portalId}`,
});
const ownQuery = (o: Objects) => `portalId=${own(o).portalId}&member_id=${own(o).member_id}`;
export const ATTACKS: Record<string, Attack> = {
  "/api/admin/rebind": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "rest" },
  "/api/admin/diagnostics": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "rest" },
  "/api/admin/backfill": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "write" },
  // Replays the session's portal's dead-lettered events (none here): the audit row is the write.
  "/api/admin/replay": { access: "admin", request: (o) => ({ body: own(o) }), crossStatus: 200, proof: "write" },
  // A portal's own settings: no object of another portal to point at; the audit row is the write.
  "/api/admin/settings": {
    access: "admin",
    request: () => ({ body: { reconcileEveryMin: 15 } }),
    crossStatus: 200,
    proof: "write",
  },
  "/api/admin/api-tokens": {
    access: "admin",
    request: () => ({ body: { name: "attack" } }),
    crossStatus: 201,
    proof: "write",
  },
  "/api/admin/api-tokens/[id]": {
    access: "admin",
    request: (o) => ({ method: "DELETE", params: { id: o.apiTokenId } }),
    crossStatus: 404,
    proof: "write",
  },
  // Any session may watch for itself; the rule is the session's portal's (a personal rule, nothing to point at).
  "/api/watch-rules": {
    access: "session",
    request: () => ({ body: { name: "attack", entityType: "deal" } }),
    crossStatus: 201,
    proof: "write",
  },
  "/api/watch-rules/[id]": {
    access: "session",
    request: (o) => ({ method: "DELETE", params: { id: o.watchRuleId } }),
    crossStatus: 404,
    proof: "write",
  },
  "/api/admin/progress": {
    access: "admin",
    request: (o) => ({ method: "GET", query: `?${ownQuery(o)}` }),
    crossStatus: 200,
    proof: "content",
  },
  // Queues an export of the session's portal's search to the session's admin's Drive: nothing of another portal to
  // point at; the export row and its job are the write.
  "/api/admin/exports": {
    access: "admin",
    request: () => ({ body: { format: "csv" } }),
    crossStatus: 201,
    proof: "write",
  },
  // An export's progress (its file name is the portal's mark): another portal's export id is a 404.
  "/api/admin/exports/[id]": {
    access: "admin",
    request: (o) => ({ method: "GET", params: { id: o.exportId } }),
    crossStatus: 404,
    proof: "content",
  },
  "/api/admin/pending/[id]": {
    access: "admin",
    request: (o) => ({ params: { id: o.pendingId } }),
    crossStatus: 404,
    proof: "rest",
  },
  "/api/admin/rest-log": {
    access: "admin",
    crossStatus: 200,
    proof: "content",
    // The marked call of the sessions suite's setup, on a page of its own whatever other tests called meanwhile.
    request: (o) => ({ method: "GET", query: `?method=crm.deal.list&${ownQuery(o)}` }),
  },
  // Any session may revert: the write goes with the user's own rights (employee-frame.test.ts shows the refusals).
  "/api/history/revert": {
    access: "session",
    request: (o) => ({ body: { changeId: o.changeId, overwrite: true } }),
    crossStatus: 404,
    proof: "rest",
  },
  "/api/history/export": {
    access: "session",
    request: (o) => ({ body: { entity: "deal", id: o.recordId, ...own(o) } }),
    crossStatus: 200,
    proof: "rest",
  },
  "/placements/tab": { access: "session", request: record, crossStatus: 200, proof: "content" },
  "/placements/widget": { access: "session", request: record, crossStatus: 200, proof: "content" },
  "/api/auth/frame": {
    access: "frame",
    why: "issues a session from the frame's auth: attacked with another portal's AUTH_ID",
  },
  "/bitrix/app": { access: "frame", why: "frame hand-off: attacked in security-frames-events.test.ts" },
  "/bitrix/placement": { access: "frame", why: "frame hand-off: attacked in security-frames-events.test.ts" },
  "/api/bitrix/events": {
    access: "bitrix",
    why: "application_token: attacked in security-frames-events.test.ts and lifecycle-events.test.ts",
  },
  "/api/bitrix/install": {
    access: "bitrix",
    why:
      "OAuth exchange of the refresh token and an admin check: attacked in security-install-replays.test.ts and " +
      "lifecycle-install.test.ts",
  },
  "/api/v1/changes": {
    access: "api-token",
    why:
      "an admin's API token, no session: attacked in api.test.ts (missing, forged, revoked, " +
      "another portal's, rate-limited)",
  },
  "/api/health": { access: "public", why: "liveness" },
  "/api/ping": { access: "public", why: "liveness, benchmark baseline" },
  "/api/metrics": {
    access: "public",
    why:
      "Prometheus scrape (protect at the network edge); carries no identities or secrets, checked in " +
      "security-frames-events.test.ts",
  },
};
