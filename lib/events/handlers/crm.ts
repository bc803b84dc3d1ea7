import "server-only";
import { onCrmEvent, type CrmEntityType } from "@/lib/history/capture";
import type { InboxEvent } from "@/lib/events/handlers/types";

// ONCRM{DEAL,CONTACT,COMPANY,LEAD}{ADD,UPDATE,DELETE}: only the ID arrives; the history module fetches the record.
const CRM_EVENT = /^ONCRM(DEAL|CONTACT|COMPANY|LEAD)(ADD|UPDATE|DELETE)$/;

export function isCrmEvent(name: string): boolean {
  return CRM_EVENT.test(name);
}

export async function handleCrmEvent(e: InboxEvent): Promise<void> {
  const [, entity, action] = CRM_EVENT.exec(e.event)!;
  const id = Number((e.data?.FIELDS as Record<string, unknown> | undefined)?.ID);
  if (!Number.isInteger(id) || id <= 0) return; // nothing to fetch; the event is still acknowledged
  await onCrmEvent({ portalId: e.portalId, entityType: entity!.toLowerCase() as CrmEntityType, action: action!.toLowerCase() as "add" | "update" | "delete",
    entityId: id, userId: e.userId ?? undefined, receivedAt: e.receivedAt });
}
