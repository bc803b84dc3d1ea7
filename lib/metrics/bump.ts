import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

// Per-portal, per-minute counters the admin page charts and /api/metrics exports. Best effort: a failed counter
// update never fails the work it counts.
export async function bumpMetric(portalId: string, name: string, by = 1): Promise<void> {
  const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  try {
    await getDb().$executeRaw`
      INSERT INTO "MetricSample" ("portalId", name, minute, value) VALUES (${portalId}, ${name}, ${minute}, ${by})
      ON CONFLICT ("portalId", name, minute) DO UPDATE SET value = "MetricSample".value + ${by}`;
  } catch (err) {
    log.debug({ err, portalId, name }, "metric not recorded");
  }
}

export async function bumpGlobal(name: string, by = 1): Promise<void> {
  try {
    await getDb().$executeRaw`
      INSERT INTO "GlobalCounter" (name, value, "updatedAt") VALUES (${name}, ${by}, now())
      ON CONFLICT (name) DO UPDATE SET value = "GlobalCounter".value + ${by}, "updatedAt" = now()`;
  } catch (err) {
    log.debug({ err, name }, "counter not recorded");
  }
}
