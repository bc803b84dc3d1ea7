import "server-only";
import { captureRecords, recordDeletion, type CrmEntityType } from "@/lib/history/capture";
import type { InboxEvent } from "@/lib/events/handlers/types";

// ONCRM{DEAL,CONTACT,COMPANY,LEAD}{ADD,UPDATE,DELETE}: only the ID arrives (CONTRACTS.md §2.7); the history module
// fetches the records. A claimed batch is handled together: the adds and updates of one portal and entity become ONE
// batched fetch, however many events they are (1 000 edits a minute fit in a few requests under the 2 req/s budget).
const CRM_EVENT = /^ONCRM(DEAL|CONTACT|COMPANY|LEAD)(ADD|UPDATE|DELETE)$/;

export function isCrmEvent(name: string): boolean {
  return CRM_EVENT.test(name);
}

interface Parsed { index: number; entityType: CrmEntityType; action: "add" | "update" | "delete"; id: number }

function parse(e: InboxEvent, index: number): Parsed | null {
  const [, entity, action] = CRM_EVENT.exec(e.event)!;
  const id = Number((e.data?.FIELDS as Record<string, unknown> | undefined)?.ID);
  if (!Number.isInteger(id) || id <= 0) return null; // nothing to fetch; the event is still acknowledged
  return { index, entityType: entity!.toLowerCase() as CrmEntityType, action: action!.toLowerCase() as Parsed["action"], id };
}

/** Handles CRM events together; returns each event's error (null = done). A failed fetch fails its whole group. */
export async function handleCrmEvents(events: InboxEvent[]): Promise<unknown[]> {
  const errors: unknown[] = events.map(() => null);
  const parsed = events.map(parse).filter((p): p is Parsed => p !== null);
  const groups = new Map<string, Parsed[]>();
  for (const p of parsed.filter((x) => x.action !== "delete")) {
    const key = `${events[p.index]!.portalId}|${p.entityType}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    const { portalId } = events[group[0]!.index]!;
    const created = new Set(group.filter((p) => p.action === "add").map((p) => p.id));
    try {
      await captureRecords(portalId, group[0]!.entityType, group.map((p) => p.id), { created });
    } catch (e) {
      for (const p of group) errors[p.index] = e;
    }
  }
  // Deletes after the fetches: an update and a delete of one record in the same batch read as "gone", then "deleted".
  for (const p of parsed.filter((x) => x.action === "delete")) {
    const e = events[p.index]!;
    try {
      await recordDeletion({ portalId: e.portalId, entityType: p.entityType, entityId: p.id, userId: e.userId ?? undefined, receivedAt: e.receivedAt });
    } catch (err) {
      errors[p.index] = err;
    }
  }
  return errors;
}
