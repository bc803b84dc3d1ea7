// The event mix the stack benchmarks post: ONCRM*UPDATE over records that exist in the fake portal, in the wire
// format the fake itself delivers (form-encoded, PHP bracket keys, the auth block with access and application
// token — tests/fake-portal/core.ts eventBody), with the handler ids the app's event.bind calls were given.
// Every body has its own `ts`, so no two are duplicates of each other (the inbox keys on event|handler|ts|data).
import { query } from "./db";

const MIX: [entity: string, share: number][] = [
  ["deal", 0.55],
  ["contact", 0.2],
  ["company", 0.1],
  ["lead", 0.15],
];
export const CRM_UPDATE_EVENTS = MIX.map(([e]) => `ONCRM${e.toUpperCase()}UPDATE`);

interface FakeState {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  oauthUrl: string;
  app: { applicationToken: string; status?: string };
  bindings: { event: string; id: number; offline?: boolean }[];
}

export interface EventMix {
  body(i: number): string;
  /** body i carries ts = ts0 + i */
  ts0: number;
  /** e.g. "deal 55 % of 2000, contact 20 % of 20, …" */
  describe: string;
}

async function exists(portalUrl: string, entity: string, id: number): Promise<boolean> {
  const res = await fetch(`${portalUrl}/_fake/crm?entity=${entity}&id=${id}`);
  return (await res.json()) !== null;
}

/** How many records of a kind the fake holds (ids 1..n): doubling, then bisection. */
async function countRecords(portalUrl: string, entity: string): Promise<number> {
  if (!(await exists(portalUrl, entity, 1))) return 0;
  let lo = 1;
  let hi = 2;
  while (await exists(portalUrl, entity, hi)) [lo, hi] = [hi, hi * 2];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(portalUrl, entity, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A cheap deterministic spread of i over [0, 1). */
const spread = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;

export async function crmEventMix(portalUrl: string): Promise<EventMix> {
  const state = (await (await fetch(`${portalUrl}/_fake/state`)).json()) as FakeState;
  const token = (await (
    await fetch(`${portalUrl}/_fake/frame-auth`, { method: "POST", body: JSON.stringify({ userId: 1 }) })
  ).json()) as { AUTH_ID: string };
  const auth = new URLSearchParams({
    "auth[access_token]": token.AUTH_ID,
    "auth[expires_in]": "3600",
    "auth[scope]": "crm,placement,user_brief,disk",
    "auth[domain]": state.domain,
    "auth[server_endpoint]": `${state.oauthUrl}/rest/`,
    "auth[status]": state.app.status ?? "L",
    "auth[client_endpoint]": state.clientEndpoint,
    "auth[member_id]": state.memberId,
    "auth[user_id]": "1",
    "auth[application_token]": state.app.applicationToken,
  }).toString();
  const kinds = await Promise.all(
    MIX.map(async ([entity, share]) => {
      const event = `ONCRM${entity.toUpperCase()}UPDATE`;
      const handler = state.bindings.find((b) => b.event === event && !b.offline)?.id ?? 1;
      return {
        entity,
        share,
        count: await countRecords(portalUrl, entity),
        head: `event=${event}&event_handler_id=${handler}&data%5BFIELDS%5D%5BID%5D=`,
      };
    }),
  );
  const live = kinds.filter((k) => k.count > 0);
  const total = live.reduce((s, k) => s + k.share, 0);
  const bounds = live.map((_, n) => live.slice(0, n + 1).reduce((s, k) => s + k.share, 0) / total);
  const ts0 = Math.floor(Date.now() / 1000);
  return {
    ts0,
    describe: live.map((k) => `${k.entity} ${Math.round((k.share / total) * 100)} % of ${k.count}`).join(", "),
    body(i) {
      const r = spread(i);
      const n = bounds.findIndex((b) => r < b);
      const k = live[n < 0 ? live.length - 1 : n]!;
      const id = 1 + (Math.floor(spread(i ^ 0x5bd1e995) * k.count) % k.count);
      return `${k.head}${id}&ts=${ts0 + i}&${auth}`;
    },
  };
}

export interface InboxCounts {
  stored: number;
  done: number;
  pending: number;
  processing: number;
  dead: number;
}

/** The inbox rows of our events (ids above `afterId`), by status. */
export async function inboxCounts(url: string, afterId: bigint): Promise<InboxCounts> {
  const [r] = await query<InboxCounts>(
    url,
    `SELECT count(*)::int AS stored, count(*) FILTER (WHERE status = 'done')::int AS done,
    count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'processing')::int AS processing,
    count(*) FILTER (WHERE status = 'dead')::int AS dead FROM "EventInbox" WHERE id > $1 AND event = ANY($2)`,
    [afterId.toString(), CRM_UPDATE_EVENTS],
  );
  return r!;
}

export async function lastInboxId(url: string): Promise<bigint> {
  const [r] = await query<{ id: string | null }>(url, `SELECT max(id)::text AS id FROM "EventInbox"`);
  return BigInt(r?.id ?? 0);
}

/** Cheap progress for polling a large inbox (status index + max id): rows above `afterId` and those still queued. */
export async function inboxProgress(
  url: string,
  afterId: bigint,
): Promise<{ stored: number; queued: number; done: number }> {
  const [r] = await query<{ top: string | null; queued: number }>(
    url,
    `SELECT (SELECT max(id)::text FROM "EventInbox") AS top,
    (SELECT count(*)::int FROM "EventInbox" WHERE status IN ('pending', 'processing') AND id > $1) AS queued`,
    [afterId.toString()],
  );
  const stored = Number(BigInt(r?.top ?? afterId) - afterId);
  return { stored, queued: r?.queued ?? 0, done: stored - (r?.queued ?? 0) };
}

/**
 * Event by event: every body the app answered 2xx ("queued") must be in the inbox. Stored rows whose answer never
 * arrived are the requests in flight when a timed load stopped (at most one per connection).
 */
export async function reconcile(
  url: string,
  afterId: bigint,
  mix: EventMix,
  queued: Set<number>,
): Promise<{ lost: number; unanswered: number }> {
  const rows = await query<{ i: number }>(
    url,
    `SELECT ((payload->>'ts')::bigint - $2)::int AS i FROM "EventInbox" WHERE id > $1 AND event = ANY($3)`,
    [afterId.toString(), mix.ts0, CRM_UPDATE_EVENTS],
  );
  const stored = new Set(rows.map((r) => r.i));
  let lost = 0;
  for (const i of queued) if (!stored.has(i)) lost++;
  let unanswered = 0;
  for (const i of stored) if (!queued.has(i)) unanswered++;
  return { lost, unanswered };
}
