// Bench 1 — event ingestion: sustained requests/s and p50/p99 of POST /api/bitrix/events on this machine, next to
// a bare Next.js route (/api/ping) in the same run; then waits until every accepted event was processed.
import autocannon from "autocannon";
import pg from "pg";
import type { Stack } from "../scripts/stack";
import { fmt, type BenchRow } from "./table";

interface FrameAuth {
  APPLICATION_TOKEN: string;
  member_id: string;
  DOMAIN: string;
}

function eventBody(i: number, auth: FrameAuth, ids: number): string {
  // A robot-style CRM event (no OAuth tokens), form-encoded with PHP bracket keys exactly as Bitrix24 sends it.
  const p = new URLSearchParams();
  p.set("event", "ONCRMDEALUPDATE");
  p.set("event_handler_id", "7");
  p.set("data[FIELDS][ID]", String(1 + (i % ids)));
  p.set("ts", String(1_800_000_000 + i));
  p.set("auth[domain]", auth.DOMAIN);
  p.set("auth[member_id]", auth.member_id);
  p.set("auth[application_token]", auth.APPLICATION_TOKEN);
  return p.toString();
}

async function load(url: string, seconds: number, body: (i: number) => string | undefined) {
  let i = 0;
  const result = await autocannon({
    url,
    method: "POST",
    duration: seconds,
    connections: 16,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    requests: [{ setupRequest: (req) => ({ ...req, body: body(i++) }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, ok: result["2xx"], non2xx: result.non2xx, errors: result.errors };
}

async function countProcessed(databaseUrl: string): Promise<{ done: number; total: number }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query(`select count(*) filter (where status = 'done')::int as done, count(*)::int as total from "EventInbox" where source = 'online' and event = 'ONCRMDEALUPDATE'`);
    return r.rows[0] as { done: number; total: number };
  } finally {
    await c.end();
  }
}

export async function benchIngest(stack: Stack, seconds = 15): Promise<BenchRow[]> {
  const portal = stack.portalUrls[0]!;
  const auth = (await (await fetch(`${portal}/_fake/frame-auth`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: 1 }) })).json()) as FrameAuth;
  const bare = await load(`${stack.appUrl}/api/ping`, seconds, () => "x=1");
  const events = await load(`${stack.appUrl}/api/bitrix/events`, seconds, (i) => eventBody(i, auth, 50));
  const deadline = Date.now() + 300_000;
  let counts = await countProcessed(stack.env.DATABASE_URL!);
  while (counts.done < counts.total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    counts = await countProcessed(stack.env.DATABASE_URL!);
  }
  return [
    { bench: "1 ingestion", metric: "requests/s", value: fmt(events.rps, 0), baseline: `${fmt(bare.rps, 0)} (bare route)`, note: `ratio ${fmt(events.rps / bare.rps, 2)}` },
    { bench: "1 ingestion", metric: "latency p50 / p99 ms", value: `${events.p50} / ${events.p99}`, baseline: `${bare.p50} / ${bare.p99}` },
    { bench: "1 ingestion", metric: "events in = processed", value: `${events.ok} accepted, ${counts.total} stored, ${counts.done} processed`, note: `${events.non2xx} non-2xx, ${events.errors} errors` },
  ];
}
