import "server-only";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

// App-wide alerts: OUR configuration is wrong, not a tenant's state (issue #18 item 4). The OAuth server answering
// WRONG_CLIENT / INVALID_CLIENT to every portal, or a server_endpoint outside BITRIX_OAUTH_ALLOWED, means a bad deploy
// of the client id/secret or of the allow-list: no portal is disabled for it (each would need a reinstall), the alert
// shows on /api/metrics, in the logs and on every admin page, and clears itself at the next successful grant — the
// portals' waiting work resumes then. Kept in GlobalCounter rows `alert:<CODE>` so every process sees the same alerts.

export const CONFIG_ALERTS: Record<string, string> = {
  WRONG_CLIENT:
    "The Bitrix24 OAuth server refuses the app's client id/secret (WRONG_CLIENT): check BITRIX_CLIENT_ID and BITRIX_CLIENT_SECRET",
  INVALID_CLIENT:
    "The Bitrix24 OAuth server refuses the app's client id/secret (INVALID_CLIENT): check BITRIX_CLIENT_ID and BITRIX_CLIENT_SECRET",
  OAUTH_SERVER_NOT_ALLOWED: "A portal's OAuth server is not in BITRIX_OAUTH_ALLOWED: check the allow-list",
};

export function isConfigError(code: string): boolean {
  return code.toUpperCase() in CONFIG_ALERTS;
}

export interface AppAlert {
  code: string;
  message: string;
  count: number;
  lastAt: Date;
}

let anyRaised = true; // unknown at start: the first successful grant checks once

export async function raiseAppAlert(code: string, portalId?: string) {
  const name = `alert:${code.toUpperCase()}`;
  anyRaised = true;
  await getDb()
    .$executeRaw`INSERT INTO "GlobalCounter" (name, value, "updatedAt") VALUES (${name}, 1, now() AT TIME ZONE 'UTC')
    ON CONFLICT (name) DO UPDATE SET value = "GlobalCounter".value + 1, "updatedAt" = now() AT TIME ZONE 'UTC'`;
  log.error(
    { alert: code.toUpperCase(), portalId },
    CONFIG_ALERTS[code.toUpperCase()] ?? "app-wide configuration alert",
  );
}

/** A grant succeeded: our credentials and allow-list work, every configuration alert is over. */
export async function clearAppAlerts() {
  if (!anyRaised) return;
  const cleared = await getDb().globalCounter.deleteMany({ where: { name: { startsWith: "alert:" } } });
  anyRaised = false;
  if (cleared.count) log.info({ cleared: cleared.count }, "configuration alerts cleared: a grant succeeded");
}

export async function listAppAlerts(): Promise<AppAlert[]> {
  const rows = await getDb().globalCounter.findMany({
    where: { name: { startsWith: "alert:" } },
    orderBy: { name: "asc" },
  });
  return rows.map((r) => {
    const code = r.name.slice("alert:".length);
    return { code, message: CONFIG_ALERTS[code] ?? code, count: Number(r.value), lastAt: r.updatedAt };
  });
}
