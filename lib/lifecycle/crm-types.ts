import "server-only";
import { backfillNewTypes } from "@/lib/history/backfill";
import type { InboxEvent } from "@/lib/events/handlers/types";
import { rebindPortal } from "@/lib/lifecycle/diagnostics";

// ONCRMTYPEADD / ONCRMTYPEUPDATE / ONCRMTYPEDELETE: an admin added, renamed or deleted a smart process
// (b24restdocs crm/universal/events/type/on-crm-type-*.md; data[FIELDS][ID] is the type's id, not its
// entityTypeId). The portal's types are read again (crm.type.list) and the bindings reconciled: a new type gets its
// CRM_DYNAMIC_<entityTypeId>_DETAIL_TAB and a backfill pass, a deleted type's tab is unbound — no reinstall.
// The event is only a hint: what is bound follows crm.type.list, so a forged event changes nothing.

/** Handles the type events of a claimed batch: one reconcile per portal. Returns each event's error. */
export async function handleCrmTypeEvents(events: InboxEvent[]): Promise<unknown[]> {
  const errors: unknown[] = events.map(() => null);
  const portals = [...new Set(events.map((e) => e.portalId))];
  for (const portalId of portals) {
    try {
      const report = await rebindPortal(portalId);
      const newTab = report.bound.some((b) => b.startsWith("placement:CRM_DYNAMIC_"));
      if (newTab) await backfillNewTypes(portalId, "crm-type");
    } catch (e) {
      events.forEach((ev, i) => {
        if (ev.portalId === portalId) errors[i] = e;
      });
    }
  }
  return errors;
}
