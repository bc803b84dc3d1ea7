import "server-only";
import { captureRecords, existingRecords, recordDeletion, type CrmEntityType } from "@/lib/history/capture";
import { getDb } from "@/lib/db";
import type { ReadTrigger } from "@/lib/history/merged";
import type { InboxEvent } from "@/lib/events/handlers/types";
import {
  actionOfEvent,
  DYNAMIC_ITEM_EVENTS,
  entityTypeIdOf,
  itemTypeOfEvent,
  QUOTE_EVENTS,
  TYPE_EVENTS,
  updateEventsOf,
} from "@/lib/history/entity-types";
import { handleCrmTypeEvents } from "@/lib/lifecycle/crm-types";

// ONCRM{DEAL,CONTACT,COMPANY,LEAD}{ADD,UPDATE,DELETE}: only the ID arrives (docs/bitrix24.md#events); the history
// module fetches the records. A claimed batch is handled together: the adds and updates of one portal and entity
// become ONE batched fetch, however many events they are (1 000 edits a minute fit in a few requests under the
// 2 req/s budget).
// ONCRMDEALMOVETOCATEGORY (a deal moved to another funnel, which raises no ONCRMDEALUPDATE — b24restdocs
// crm/deals/events/index.md) is an update of that deal: its CATEGORY_ID and STAGE_ID are read with the record.
const CRM_EVENT = /^ONCRM(?:(DEAL|CONTACT|COMPANY|LEAD)(ADD|UPDATE|DELETE)|(DEAL)MOVETOCATEGORY)$/;

// Quotes (ONCRMQUOTE*, data[FIELDS][ID]), new invoices and smart-process items (ONCRMDYNAMICITEM*, data[FIELDS][ID]
// and [ENTITY_TYPE_ID]) are handled the same way; ONCRMTYPE* (a smart process added, renamed, deleted) binds or
// unbinds its tab (lib/lifecycle/crm-types.ts).
const ITEM_EVENTS = new Set([...QUOTE_EVENTS, ...DYNAMIC_ITEM_EVENTS]);

export function isCrmEvent(name: string): boolean {
  return CRM_EVENT.test(name) || ITEM_EVENTS.has(name) || TYPE_EVENTS.includes(name);
}

interface Parsed {
  index: number;
  entityType: CrmEntityType;
  action: "add" | "update" | "delete";
  id: number;
}

function parse(e: InboxEvent, index: number): Parsed | null {
  const fields = e.data?.FIELDS as Record<string, unknown> | undefined;
  const id = Number(fields?.ID);
  if (!Number.isInteger(id) || id <= 0) return null; // nothing to fetch; the event is still acknowledged
  if (ITEM_EVENTS.has(e.event)) {
    const entityType = itemTypeOfEvent(e.event, fields); // an unknown or system ENTITY_TYPE_ID: nothing to fetch
    return entityType ? { index, entityType, action: actionOfEvent(e.event), id } : null;
  }
  if (!CRM_EVENT.test(e.event)) return null;
  const [, entity, action, moved] = CRM_EVENT.exec(e.event)!;
  const verb = moved ? "update" : (action!.toLowerCase() as Parsed["action"]);
  return { index, entityType: (entity ?? moved)!.toLowerCase() as CrmEntityType, action: verb, id };
}

/**
 * An update event says only "record N changed": a fetch that began after it arrived has read that change. Updates
 * of the same records still waiting in the inbox are settled by this fetch, so a flood of (forged or real) update
 * events for a record costs one read, not one per event — the portal's REST budget is spent per record, not per event.
 */
async function coalesceWaitingUpdates(portalId: string, entityType: CrmEntityType, ids: number[], startedAt: Date) {
  const events = updateEventsOf(entityType);
  // ONCRMDYNAMICITEMUPDATE of item 1 of type 128 and of type 31 are two records: the type must match too.
  const typeId = events.includes("ONCRMDYNAMICITEMUPDATE") ? String(entityTypeIdOf(entityType)) : null;
  await getDb()
    .$executeRaw`UPDATE "EventInbox" SET status = 'done', "processedAt" = now() AT TIME ZONE 'UTC', "lastError" = 'coalesced'
    WHERE "portalId" = ${portalId} AND status = 'pending' AND event = ANY(${events}::text[])
      AND "receivedAt" < ${startedAt}
      AND payload->'data'->'FIELDS'->>'ID' = ANY(${ids.map(String)}::text[])
      AND (${typeId}::text IS NULL OR payload->'data'->'FIELDS'->>'ENTITY_TYPE_ID' = ${typeId}::text)`;
}

/** Per record, the events one read settles: whether it may stand for several edits (lib/history/merged.ts). */
function readTriggers(events: (readonly [number, InboxEvent])[]): Map<number, ReadTrigger> {
  const out = new Map<number, ReadTrigger>();
  for (const [id, e] of events) {
    const t = out.get(id) ?? { events: 0, offline: false, lastEventAt: null };
    const ts = e.source !== "offline" && e.ts ? new Date(Number(e.ts) * 1000) : null;
    const valid = ts && !Number.isNaN(ts.getTime()) ? ts : null;
    out.set(id, {
      events: t.events + 1,
      offline: t.offline || e.source === "offline",
      lastEventAt: valid && (!t.lastEventAt || valid > t.lastEventAt) ? valid : t.lastEventAt,
    });
  }
  return out;
}

/** Handles CRM events together; returns each event's error (null = done). A failed fetch fails its whole group. */
export async function handleCrmEvents(events: InboxEvent[]): Promise<unknown[]> {
  const errors: unknown[] = events.map(() => null);
  const typeEvents = events.map((e, i) => [e, i] as const).filter(([e]) => TYPE_EVENTS.includes(e.event));
  if (typeEvents.length) {
    const typeErrors = await handleCrmTypeEvents(typeEvents.map(([e]) => e));
    typeEvents.forEach(([, i], j) => {
      errors[i] = typeErrors[j];
    });
  }
  const parsed = events.map(parse).filter((p): p is Parsed => p !== null);
  const groups = new Map<string, Parsed[]>();
  for (const p of parsed.filter((x) => x.action !== "delete")) {
    const key = `${events[p.index]!.portalId}|${p.entityType}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    const { portalId } = events[group[0]!.index]!;
    const created = new Set(group.filter((p) => p.action === "add").map((p) => p.id));
    const triggers = readTriggers(group.map((p) => [p.id, events[p.index]!] as const));
    try {
      const startedAt = new Date();
      await captureRecords(
        portalId,
        group[0]!.entityType,
        group.map((p) => p.id),
        { created, triggers },
      );
      await coalesceWaitingUpdates(
        portalId,
        group[0]!.entityType,
        group.map((p) => p.id),
        startedAt,
      );
    } catch (e) {
      for (const p of group) errors[p.index] = e;
    }
  }
  // Deletes after the fetches: an update and a delete of one record in the same batch read as "gone", then "deleted".
  // A delete event is a claim, not a fact: anyone holding the application_token can post one. It is recorded only
  // when the portal confirms the record is gone (one batched read per portal and entity), and with no author — the
  // event's auth[user_id] is the sender's word; a deleted record has no MODIFY_BY_ID left to ask for.
  const deletes = new Map<string, Parsed[]>();
  for (const p of parsed.filter((x) => x.action === "delete")) {
    const key = `${events[p.index]!.portalId}|${p.entityType}`;
    deletes.set(key, [...(deletes.get(key) ?? []), p]);
  }
  for (const group of deletes.values()) {
    const { portalId } = events[group[0]!.index]!;
    try {
      const alive = await existingRecords(
        portalId,
        group[0]!.entityType,
        group.map((p) => p.id),
      );
      for (const p of group) {
        if (alive.has(p.id)) continue; // forged (or restored): nothing to record
        await recordDeletion({
          portalId,
          entityType: p.entityType,
          entityId: p.id,
          receivedAt: events[p.index]!.receivedAt,
        });
      }
    } catch (err) {
      for (const p of group) errors[p.index] = err;
    }
  }
  return errors;
}
