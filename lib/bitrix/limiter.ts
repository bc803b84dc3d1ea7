import "server-only";
import type { Lane } from "@/lib/bitrix/contract";
import { OPERATING_PAUSE_AT_S, secondsUntilRoom } from "@/lib/bitrix/limits";
import { getDb } from "@/lib/db";
import { sleep } from "@/lib/sleep";

// The per-portal leaky bucket lives in one Postgres row (RateBucket) so every web and worker process draws from the
// same budget (docs/decisions/004-shared-rate-limiter.md). One atomic UPDATE leaks by elapsed database time and takes
// a slot only if the lane has room; the database clock is the only clock, so machines with skewed clocks agree.

interface BucketState {
  taken: boolean;
  leaked: number;
  blockedMs: number;
  burst: number;
  drain: number;
}

async function tryTake(portalId: string, lane: Lane): Promise<BucketState | null> {
  const db = getDb();
  await db.$executeRaw`INSERT INTO "RateBucket" ("portalId", level, "updatedAt") VALUES (${portalId}, 0, clock_timestamp())
    ON CONFLICT ("portalId") DO NOTHING`;
  // Lane capacities mirror laneCapacity(): interactive burst-1, capture burst-1-floor(reserve/2), background
  // burst-1-reserve, where reserve = max(2, floor(10% of burst)).
  const rows = await db.$queryRaw<BucketState[]>`
    WITH b AS (
      SELECT GREATEST(0, r.level - EXTRACT(EPOCH FROM clock_timestamp() - r."updatedAt") * p."rateDrainPerSec") AS leaked,
             GREATEST(0, EXTRACT(EPOCH FROM COALESCE(r."blockedUntil", clock_timestamp()) - clock_timestamp()) * 1000) AS blocked_ms,
             p."rateBurst" AS burst, p."rateDrainPerSec" AS drain,
             CASE WHEN ${lane} = 'interactive' THEN p."rateBurst" - 1
                  WHEN ${lane} = 'capture' THEN GREATEST(1, p."rateBurst" - 1 - floor(GREATEST(2, floor(p."rateBurst" * 0.1)) / 2))
                  ELSE GREATEST(1, p."rateBurst" - 1 - GREATEST(2, floor(p."rateBurst" * 0.1))) END AS cap
      FROM "RateBucket" r JOIN "Portal" p ON p.id = r."portalId" WHERE r."portalId" = ${portalId} FOR UPDATE OF r
    ),
    upd AS (
      UPDATE "RateBucket" r SET level = b.leaked + 1, "updatedAt" = clock_timestamp()
      FROM b WHERE r."portalId" = ${portalId} AND b.blocked_ms = 0 AND b.leaked + 1 <= b.cap
      RETURNING r.level
    )
    SELECT EXISTS (SELECT 1 FROM upd) AS taken, b.leaked::float AS leaked, b.blocked_ms::float AS "blockedMs",
           b.burst::float AS burst, b.drain::float AS drain FROM b`;
  return rows[0] ?? null;
}

/** Waits until this portal's shared bucket has room in the lane, then takes a slot. */
export async function acquireSlot(portalId: string, lane: Lane, signal?: AbortSignal): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    const s = await tryTake(portalId, lane);
    if (!s || s.taken) return; // no row: the portal was purged — nothing to limit against
    const waitMs = s.blockedMs > 0 ? s.blockedMs : secondsUntilRoom(s.leaked, s.burst, s.drain, lane) * 1000;
    await sleep(Math.min(Math.max(20, waitMs) + Math.random() * 40, 5000), signal);
  }
}

/** After QUERY_LIMIT_EXCEEDED: every process holds off until `until`, and the bucket is treated as full. */
export async function blockPortal(portalId: string, until: Date): Promise<void> {
  await getDb()
    .$executeRaw`UPDATE "RateBucket" r SET "blockedUntil" = GREATEST(COALESCE(r."blockedUntil", ${until}), ${until}),
    level = GREATEST(r.level, p."rateBurst"), "updatedAt" = clock_timestamp(), "limitHits" = r."limitHits" + 1
    FROM "Portal" p WHERE r."portalId" = ${portalId} AND p.id = r."portalId"`;
}

/** Records time.operating for a method; pauses the method before Bitrix24 would block it with OPERATION_TIME_LIMIT. */
export async function recordOperating(
  portalId: string,
  method: string,
  operating?: number,
  resetAt?: number | null,
): Promise<void> {
  if (operating === undefined) return;
  const reset = resetAt ? new Date(resetAt * 1000) : null;
  const pausedUntil = operating >= OPERATING_PAUSE_AT_S ? (reset ?? new Date(Date.now() + 60_000)) : null;
  await getDb().methodOperating.upsert({
    where: { portalId_method: { portalId, method } },
    create: { portalId, method, operating, resetAt: reset, pausedUntil },
    update: { operating, resetAt: reset, pausedUntil },
  });
}

export async function pauseMethod(portalId: string, method: string, until: Date): Promise<void> {
  await getDb().methodOperating.upsert({
    where: { portalId_method: { portalId, method } },
    create: { portalId, method, operating: 0, pausedUntil: until },
    update: { pausedUntil: until },
  });
}

/** Milliseconds this method must still wait (0 if it may run). */
export async function methodPauseMs(portalId: string, method: string): Promise<number> {
  const row = await getDb().methodOperating.findUnique({ where: { portalId_method: { portalId, method } } });
  return row?.pausedUntil ? Math.max(0, row.pausedUntil.getTime() - Date.now()) : 0;
}
