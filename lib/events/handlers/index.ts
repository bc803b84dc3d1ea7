import "server-only";
import { handleCrmEvent, isCrmEvent } from "@/lib/events/handlers/crm";
import { handleMethodConfirm } from "@/lib/events/handlers/method-confirm";
import type { InboxEvent } from "@/lib/events/handlers/types";

/** One handler per event; events without one (ONAPPPAYMENT, ONAPPTEST, …) are acknowledged and kept for audit. */
export async function dispatchEvent(e: InboxEvent): Promise<void> {
  if (isCrmEvent(e.event)) return handleCrmEvent(e);
  if (e.event === "ONAPPMETHODCONFIRM") return handleMethodConfirm(e);
}
