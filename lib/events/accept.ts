import "server-only";
import { Prisma } from "@prisma/client";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { enqueueJob } from "@/lib/jobs/queue";
import { installFromClaim } from "@/lib/lifecycle/install";
import { handleUninstall } from "@/lib/lifecycle/uninstall";
import { bumpMetric } from "@/lib/metrics/bump";
import type { FormObject } from "@/lib/bitrix/form-parser";
import { IncomingEventSchema, type IncomingEvent } from "@/lib/events/schema";
import { verifyApplicationToken } from "@/lib/events/verify";

// POST /api/bitrix/events: parse → verify application_token → resolve the tenant → persist to the inbox → answer
// fast (Bitrix24 never retries and calls slow handlers less often, CONTRACTS.md §2). Heavy work runs in workers.

export type Accepted = { status: "installed" | "updated" | "uninstalled" | "queued" | "duplicate" | "scheduled" };

function canonical(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "object") return String(v);
  return `{${Object.keys(v as object).sort().map((k) => `${k}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** A duplicated delivery carries the same event, handler, timestamp and data: it gets the same key. */
export function idempotencyKey(e: IncomingEvent): string {
  return sha256Hex([e.event.toUpperCase(), e.event_handler_id ?? "", e.ts ?? "", canonical(e.data)].join("|"));
}

async function lifecycleEvent(e: IncomingEvent, source: "event" | "update"): Promise<Accepted> {
  if (!e.auth.refresh_token) throw new AppError(400, "invalid_request", `${e.event} without auth[refresh_token]`);
  await installFromClaim({ memberId: e.auth.member_id, refreshToken: e.auth.refresh_token, serverEndpoint: e.auth.server_endpoint ?? null, applicationToken: e.auth.application_token, source });
  return { status: source === "update" ? "updated" : "installed" };
}

export async function acceptEvent(form: FormObject): Promise<Accepted> {
  const e = IncomingEventSchema.parse(form);
  const name = e.event.toUpperCase();
  // Install and update prove themselves by the OAuth exchange of their refresh token (an update may bring a new
  // application_token, which the stored one cannot verify).
  if (name === "ONAPPINSTALL") return lifecycleEvent(e, "event");
  if (name === "ONAPPUPDATE") return lifecycleEvent(e, "update");
  const portal = await verifyApplicationToken(e.auth.member_id, e.auth.application_token, "events");
  if (name === "ONAPPUNINSTALL") {
    if (portal.status === "uninstalled") return { status: "duplicate" };
    await handleUninstall(portal.id, portal.memberId, String(e.data?.CLEAN ?? "0") === "1");
    return { status: "uninstalled" };
  }
  if (portal.status === "uninstalled") throw new AppError(410, "uninstalled", "The app is uninstalled on this portal");
  bumpMetric(portal.id, "events.received");
  if (name === "ONOFFLINEEVENT") {
    // A notification only: drain the queue soon, once per few seconds however many notifications arrive.
    await enqueueJob("offline.drain", { portalId: portal.id, dedupeKey: `offline.drain:${portal.id}:${Math.floor(Date.now() / 5000)}` });
    return { status: "scheduled" };
  }
  try {
    await getDb().eventInbox.create({ data: { portalId: portal.id, event: name, idempotencyKey: idempotencyKey(e), source: "online", payload: { data: (e.data ?? null) as Prisma.InputJsonValue, ts: e.ts ?? null, user_id: e.auth.user_id ?? null } } });
    return { status: "queued" };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return { status: "duplicate" };
    throw err;
  }
}
