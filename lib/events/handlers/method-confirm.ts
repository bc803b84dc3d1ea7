import "server-only";
import { revertRunner } from "@/lib/history/revert";
import { onMethodConfirm } from "@/lib/bitrix/confirm";
import type { InboxEvent } from "@/lib/events/handlers/types";

// ONAPPMETHODCONFIRM: data[TOKEN], data[METHOD], data[CONFIRMED] "1"/"0" (docs/bitrix24.md#method-confirmation); no
// access token.
export async function handleMethodConfirm(e: InboxEvent): Promise<void> {
  const d = e.data ?? {};
  await onMethodConfirm(
    e.portalId,
    String(d.TOKEN ?? ""),
    String(d.METHOD ?? ""),
    String(d.CONFIRMED ?? "0") === "1",
    revertRunner,
  );
}
