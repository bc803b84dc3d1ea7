import "server-only";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { dbRetryDeadline, withDbRetry } from "@/lib/db-retry";
import { AppError } from "@/lib/http-errors";
import { installFromClaim, updateWithStoredTokens } from "@/lib/lifecycle/install";
import { handleUninstallClaim } from "@/lib/lifecycle/uninstall";
import { bumpMetric } from "@/lib/metrics/bump";
import type { FormObject } from "@/lib/bitrix/form-parser";
import { IncomingEventSchema, type IncomingEvent } from "@/lib/events/schema";
import { verifyApplicationToken } from "@/lib/events/verify";
import { onOfflineNotification } from "@/lib/events/offline";

// POST /api/bitrix/events: parse → verify application_token → resolve the tenant → persist to the inbox → answer
// fast (Bitrix24 never retries and calls slow handlers less often, docs/bitrix24.md#events). Heavy work runs in
// workers. Because nothing is resent, the database steps ride out a short outage inside the request (lib/db-retry.ts)
// and answer 503 "database_unavailable" only when it lasts longer.

export type Accepted = {
  status: "installed" | "updated" | "uninstalled" | "refuted" | "unconfirmed" | "queued" | "duplicate" | "scheduled";
};

function canonical(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "object") return String(v);
  return `{${Object.keys(v as object)
    .sort()
    .map((k) => `${k}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(",")}}`;
}

/** A duplicated delivery carries the same event, handler, timestamp and data: it gets the same key. */
export function idempotencyKey(e: IncomingEvent): string {
  return sha256Hex([e.event.toUpperCase(), e.event_handler_id ?? "", e.ts ?? "", canonical(e.data)].join("|"));
}

async function lifecycleEvent(e: IncomingEvent, source: "event" | "update"): Promise<Accepted> {
  if (!e.auth.refresh_token) throw new AppError(400, "invalid_request", `${e.event} without auth[refresh_token]`);
  await installFromClaim({
    memberId: e.auth.member_id,
    refreshToken: e.auth.refresh_token,
    serverEndpoint: e.auth.server_endpoint ?? null,
    applicationToken: e.auth.application_token,
    source,
  });
  return { status: source === "update" ? "updated" : "installed" };
}

export async function acceptEvent(form: FormObject): Promise<Accepted> {
  const e = IncomingEventSchema.parse(form);
  const name = e.event.toUpperCase();
  // Install and update prove themselves by the OAuth exchange of their refresh token (an update may bring a new
  // application_token, which the stored one cannot verify).
  // No retry for these: the OAuth exchange inside rotates the refresh token, so a second run would be refused.
  const once = {
    until: 0,
    unavailable: "The database is unavailable: the installation could not be recorded. Try again later.",
  };
  if (name === "ONAPPINSTALL") return withDbRetry(() => lifecycleEvent(e, "event"), once);
  // An ONAPPUPDATE with no user behind it carries no tokens: verified below by application_token instead.
  if (name === "ONAPPUPDATE" && e.auth.refresh_token) return withDbRetry(() => lifecycleEvent(e, "update"), once);
  const retry = {
    until: dbRetryDeadline(),
    unavailable: "The database is unavailable: the event was not stored. Try again later.",
  };
  const portal = await withDbRetry(
    () => verifyApplicationToken(e.auth.member_id, e.auth.application_token, "events"),
    retry,
  );
  if (name === "ONAPPUNINSTALL") {
    if (portal.status === "uninstalled") return { status: "duplicate" };
    // application_token alone proves nothing here (any employee's frame may carry it): the OAuth server confirms.
    const outcome = await handleUninstallClaim(portal.id, portal.memberId, String(e.data?.CLEAN ?? "0") === "1");
    return { status: outcome };
  }
  if (portal.status === "uninstalled") throw new AppError(410, "uninstalled", "The app is uninstalled on this portal");
  if (name === "ONAPPUPDATE") {
    await withDbRetry(() => updateWithStoredTokens(portal.id, portal.memberId, String(e.data?.VERSION ?? "")), retry);
    return { status: "updated" };
  }
  bumpMetric(portal.id, "events.received");
  if (name === "ONOFFLINEEVENT") {
    // A notification only: drain the queue soon, and look again after its quiet window (lib/events/offline.ts).
    await withDbRetry(() => onOfflineNotification(portal.id), retry);
    return { status: "scheduled" };
  }
  return withDbRetry(() => storeInInbox(portal.id, name, e), retry);
}

/**
 * Idempotent: a retry whose first attempt committed (its answer lost with the connection) reads as a duplicate.
 * Raw SQL on this hot path, like the token check (lib/events/verify.ts): a third of the route's CPU was Prisma
 * compiling this insert.
 */
async function storeInInbox(portalId: string, name: string, e: IncomingEvent): Promise<Accepted> {
  const payload = JSON.stringify({ data: e.data ?? null, ts: e.ts ?? null, user_id: e.auth.user_id ?? null });
  const inserted = await getDb().$queryRaw<{ id: bigint }[]>`
    INSERT INTO "EventInbox" ("portalId", event, "idempotencyKey", source, payload, "nextAttemptAt", "receivedAt")
    VALUES (${portalId}, ${name}, ${idempotencyKey(e)}, 'online', ${payload}::jsonb, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
    ON CONFLICT ("portalId", "idempotencyKey") DO NOTHING RETURNING id`;
  return { status: inserted.length ? "queued" : "duplicate" };
}
