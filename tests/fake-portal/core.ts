import { createHash, randomBytes } from "node:crypto";
import { dealMove, moveEventData } from "./deal-moves";
import { recordLegacyStageChange } from "./items-store";
import { writeMultifields } from "./multifield";
import { offlineNotifyDue, queueOfflineItem } from "./offline-queue";
import { httpBuildQuery } from "./php";
import type { CrmRecord, Entity, FakeBitrix, OfflineItem, PortalState } from "./types";

// Shared behaviour of the fake: tokens, event delivery exactly as Bitrix24's queue server does it, CRM writes.

export const hex = (bytes = 16) => randomBytes(bytes).toString("hex");

export function mintTokens(fake: FakeBitrix, portal: PortalState, userId: number) {
  const access = hex();
  const refresh = hex();
  const expiresAtMs = fake.clock.nowMs() + 3600_000;
  fake.tokens.set(access, { portal, userId, expiresAtMs });
  fake.refreshTokens.set(refresh, { portal, userId, rotated: false, issuedAtMs: fake.clock.nowMs() });
  return { access, refresh, expires: Math.floor(expiresAtMs / 1000) };
}

export function revokePortalTokens(fake: FakeBitrix, portal: PortalState) {
  for (const [k, t] of fake.tokens) if (t.portal === portal) fake.tokens.delete(k);
  for (const [k, t] of fake.refreshTokens) if (t.portal === portal) fake.refreshTokens.delete(k);
}

/**
 * The portal changes its address (a renamed portal or a custom domain). The old address answers REST calls with a
 * 302 to the new one (b24restdocs settings/how-to-call-rest-api/change-domen.md; b24phpsdk src/Core/Core.php follows
 * it), and token grants name the new client_endpoint (tokenAnswer). Loopback only: `localhost:<port>` and
 * `127.0.0.1:<port>` reach the same listener, so the default toggles between the two.
 */
export function movePortal(portal: PortalState, host?: string) {
  const next =
    host ?? (portal.domain.startsWith("localhost:") ? `127.0.0.1:${portal.port}` : `localhost:${portal.port}`);
  if (next === portal.domain)
    return { domain: portal.domain, clientEndpoint: portal.clientEndpoint, formerHosts: portal.formerHosts ?? [] };
  portal.formerHosts = [...(portal.formerHosts ?? []).filter((h) => h !== next), portal.domain];
  portal.domain = next;
  portal.clientEndpoint = `http://${next}/rest/`;
  return { domain: portal.domain, clientEndpoint: portal.clientEndpoint, formerHosts: portal.formerHosts };
}

/** Where a REST request to a former address of the portal is sent (null: it reached the current one). */
export function movedLocation(portal: PortalState, host: string | undefined, pathAndQuery: string): string | null {
  if (!host || !portal.formerHosts?.includes(host)) return null;
  return `http://${portal.domain}${pathAndQuery}`;
}

/** The body of a token grant (docs/bitrix24.md#oauth, key order as documented). */
export function tokenAnswer(fake: FakeBitrix, portal: PortalState, userId: number) {
  const t = mintTokens(fake, portal, userId);
  return {
    access_token: t.access,
    client_endpoint: portal.clientEndpoint,
    domain: new URL(fake.oauthUrl).host,
    expires: t.expires,
    expires_in: 3600,
    member_id: portal.memberId,
    refresh_token: t.refresh,
    scope: fake.app.scopes.join(","),
    server_endpoint: `${fake.oauthUrl}/rest/`,
    status: portal.app.status,
    user_id: userId,
  };
}

const NO_AUTH = new Set(["ONAPPUNINSTALL", "ONAPPMETHODCONFIRM"]);
const WITH_REFRESH = new Set(["ONAPPINSTALL", "ONAPPUPDATE", "ONOFFLINEEVENT"]);

/** `auth` of an event (docs/bitrix24.md#events): tokens only when a user acted; refresh_token only for some events. */
export function eventAuth(
  fake: FakeBitrix,
  portal: PortalState,
  event: string,
  userId: number | null,
): Record<string, unknown> {
  const base = {
    domain: portal.domain,
    client_endpoint: portal.clientEndpoint,
    server_endpoint: `${fake.oauthUrl}/rest/`,
    member_id: portal.memberId,
    application_token: portal.app.applicationToken,
  };
  if (NO_AUTH.has(event) || !userId) return base;
  const t = mintTokens(fake, portal, userId);
  return {
    access_token: t.access,
    expires: String(t.expires),
    expires_in: "3600",
    scope: fake.app.scopes.join(","),
    domain: portal.domain,
    server_endpoint: base.server_endpoint,
    status: portal.app.status,
    client_endpoint: portal.clientEndpoint,
    member_id: portal.memberId,
    user_id: String(userId),
    ...(WITH_REFRESH.has(event) ? { refresh_token: t.refresh } : {}),
    application_token: portal.app.applicationToken,
  };
}

/** POSTs one form-encoded event (fire and forget, never retried — Bitrix24 does not retry). */
export async function postForm(url: string, body: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      signal: AbortSignal.timeout(30_000),
      redirect: "manual",
    });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}

export function eventBody(
  fake: FakeBitrix,
  portal: PortalState,
  event: string,
  data: Record<string, unknown> | null,
  userId: number | null,
  handlerId: number,
): string {
  return httpBuildQuery({
    event,
    event_handler_id: String(handlerId),
    data: data ?? undefined,
    ts: String(fake.clock.nowSec()),
    auth: eventAuth(fake, portal, event, userId),
  });
}

/** Online deliveries per portal since it started: the k-th is the one `faults.dropEvents` may drop. */
const deliveries = new WeakMap<PortalState, number>();

/**
 * `faults.dropEvents` is the share of online deliveries lost, chosen deterministically so a test is not left to
 * chance: the k-th delivery is dropped when ⌊k·share⌋ > ⌊(k−1)·share⌋ (1 drops all, 0.5 every 2nd, 0.25 every 4th).
 * Bitrix24 never resends an online event whose delivery failed ("will log the failure but will not resend the
 * event", b24restdocs api-reference/events/index.md), so a dropped delivery is lost for good.
 */
function dropsNext(portal: PortalState): boolean {
  const share = portal.faults.dropEvents;
  const k = (deliveries.get(portal) ?? 0) + 1;
  deliveries.set(portal, k);
  return share > 0 && Math.floor(k * share + 1e-9) > Math.floor((k - 1) * share + 1e-9);
}

function deliver(fake: FakeBitrix, portal: PortalState, handler: string, body: string) {
  const f = portal.faults;
  if (dropsNext(portal)) {
    portal.counters.eventsDropped++;
    return;
  }
  const copies = f.duplicateEvents > 0 && Math.random() < f.duplicateEvents ? 2 : 1;
  for (let i = 0; i < copies; i++) {
    portal.counters.eventsDelivered++;
    void postForm(handler, body);
  }
}

/** Fires an event to online bindings and the offline queue; nothing is sent before the install is finished. */
export function fireEvent(
  fake: FakeBitrix,
  portal: PortalState,
  event: string,
  data: Record<string, unknown> | null,
  userId: number | null,
  connector?: string,
) {
  if (!portal.app.installed || !portal.app.finished || portal.app.disabled || portal.app.paymentExpired) return;
  for (const b of portal.bindings.filter((x) => x.event === event)) {
    if (!b.offline) deliver(fake, portal, b.handler, eventBody(fake, portal, event, data, userId, b.id));
    else if (b.connector !== (connector ?? "\u0000")) enqueueOffline(fake, portal, event, data, userId, b.connector);
  }
}

function enqueueOffline(
  fake: FakeBitrix,
  portal: PortalState,
  event: string,
  data: Record<string, unknown> | null,
  userId: number | null,
  connector: string,
) {
  // MESSAGE_ID is md5(EVENT_NAME|json(EVENT_DATA)) (core modules/rest/lib/eventoffline.php getMessageId): one row per
  // object and event, and per ENTITY_TYPE_ID for ONCRMDYNAMICITEM* (item 5 of two types are two objects)
  const messageId = createHash("md5")
    .update(`${event}|${JSON.stringify(data ?? false)}`)
    .digest("hex");
  const item: OfflineItem = {
    ID: portal.nextOfflineId++,
    TIMESTAMP_X: fake.clock.iso(),
    EVENT_NAME: event,
    EVENT_DATA: data ?? false,
    EVENT_ADDITIONAL: { user_id: String(userId ?? 0) },
    MESSAGE_ID: messageId,
    PROCESS_ID: null,
    ERROR: 0,
    connector,
  };
  // The queue keeps only the latest state per object, merging into an error row too (offline-queue.ts).
  queueOfflineItem(portal, item);
  notifyOffline(fake, portal, userId);
}

function notifyOffline(fake: FakeBitrix, portal: PortalState, userId: number | null) {
  for (const b of portal.bindings.filter((x) => x.event === "ONOFFLINEEVENT" && !x.offline)) {
    if (!offlineNotifyDue(portal, b, fake.clock.nowMs())) continue;
    // ONOFFLINEEVENT has `data: []` in the docs: an empty array vanishes on the wire, so there is no data key. It is
    // sent like any event: with the acting user's tokens (auth_type 0), none when no user acted (robot, workflow).
    deliver(fake, portal, b.handler, eventBody(fake, portal, "ONOFFLINEEVENT", null, userId, b.id));
  }
}

const EVENT_NAMES: Record<Entity, string> = { deal: "DEAL", contact: "CONTACT", company: "COMPANY", lead: "LEAD" };

export function crmEventName(entity: Entity, action: "add" | "update" | "delete") {
  return `ONCRM${EVENT_NAMES[entity]}${action.toUpperCase()}`;
}

/** A CRM write by a user (REST call or the portal's own UI): stamps DATE_MODIFY/MODIFY_BY_ID and fires the event. */
export function crmWrite(
  fake: FakeBitrix,
  portal: PortalState,
  entity: Entity,
  action: "add" | "update" | "delete",
  id: number | null,
  fields: CrmRecord,
  userId: number,
  connector?: string,
): number {
  const store = portal.crm[entity];
  const now = fake.clock.iso();
  let moved: CrmRecord | null = null; // a deal's funnel change (deal-moves.ts)
  const before = id === null ? undefined : store.get(id); // for the stage history (items-store.ts)
  if (action === "add") {
    id = portal.nextId[entity]++;
    fields = writeMultifields(portal, portal.fields[entity], null, fields);
    store.set(id, {
      ...fields,
      ID: String(id),
      DATE_CREATE: now,
      DATE_MODIFY: now,
      CREATED_BY_ID: String(userId),
      MODIFY_BY_ID: String(userId),
    });
  } else if (action === "update") {
    const prev = store.get(id!)!;
    moved = entity === "deal" ? dealMove(portal, prev, fields) : null;
    fields = writeMultifields(portal, portal.fields[entity], prev, moved ?? fields);
    store.set(id!, { ...prev, ...fields, ID: String(id), DATE_MODIFY: now, MODIFY_BY_ID: String(userId) });
  } else store.delete(id!);
  recordLegacyStageChange(fake, portal, entity, id!, before, store.get(id!));
  if (moved) fireEvent(fake, portal, "ONCRMDEALMOVETOCATEGORY", moveEventData(id!, moved), userId, connector);
  else fireEvent(fake, portal, crmEventName(entity, action), { FIELDS: { ID: String(id) } }, userId, connector);
  return id!;
}
