import "server-only";
import { handleCrmEvents, isCrmEvent } from "@/lib/events/handlers/crm";
import { handleMethodConfirm } from "@/lib/events/handlers/method-confirm";
import type { InboxEvent } from "@/lib/events/handlers/types";

/**
 * One handler per event; events without one (ONAPPPAYMENT, ONAPPTEST, …) are acknowledged and kept for audit.
 * CRM events of a claimed batch are handled together (coalesced fetches); the rest one by one, in order.
 * Returns each event's error, null when it was handled.
 */
export async function dispatchEvents(events: InboxEvent[]): Promise<unknown[]> {
  const errors: unknown[] = events.map(() => null);
  const crm = events.map((e, i) => [e, i] as const).filter(([e]) => isCrmEvent(e.event));
  const crmErrors = await handleCrmEvents(crm.map(([e]) => e));
  crm.forEach(([, i], j) => {
    errors[i] = crmErrors[j];
  });
  for (const [i, e] of events.entries()) {
    if (e.event !== "ONAPPMETHODCONFIRM") continue;
    try {
      await handleMethodConfirm(e);
    } catch (err) {
      errors[i] = err;
    }
  }
  return errors;
}
