import "server-only";
import type { BitrixClient } from "@/lib/bitrix";
import { isBitrixError } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { entityTypeIdOf, parsePlacement } from "@/lib/history/entity-types";
import { listPortalItemTypes } from "@/lib/history/items";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import { eventHandlerUrl, expectedBindings, placementHandlerUrl, type ExpectedBinding } from "@/lib/lifecycle/registry";
import { errorMessage } from "@/lib/error-message";

// Reconcile expected vs actual bindings (seed: "verify bindings via event.get", "re-bind missing handlers",
// "keep old bindings cleanup bounded and safe"). Only bindings pointing at OUR handlers are ever removed.

const OBSOLETE_PER_RUN = 25;
interface ActualEvent {
  event: string;
  handler?: string;
  offline?: number | string;
  connector_id?: string;
}
interface ActualPlacement {
  placement: string;
  handler: string;
}

export interface ReconcileReport {
  expected: number;
  bound: string[];
  removed: string[];
  failed: { code: string; error: string }[];
  missingAfter: string[];
}

const keyOf = (b: { code: string; mode: string }) => `${b.mode}:${b.code}`;

/**
 * A second bind of the same handler answers ERROR_CORE "Unable to set event handler: Handler already binded"
 * (placement: "Unable to set placement handler: …"), and a bind racing another one "…: Process of binding the
 * handler has already started" (core modules/rest/lib/api/event.php eventBind, placement.php bind): the binding is
 * there. The after-check (`missingAfter`) still reads event.get / placement.get to confirm it.
 */
function isAlreadyBound(e: unknown): boolean {
  if (!isBitrixError(e)) return false;
  if (/ALREADY_EXIST/.test(e.code)) return true;
  return e.code === "ERROR_CORE" && /already binded|binding the handler has already started/i.test(e.description);
}

async function readActual(client: BitrixClient) {
  const [events, placements] = await Promise.all([
    client.call<ActualEvent[]>("event.get", {}, { lane: "interactive" }),
    client.call<ActualPlacement[]>("placement.get", {}, { lane: "interactive" }),
  ]);
  const keys = new Set<string>();
  // A binding counts only when it reaches us: an online handler or a placement at another address (APP_URL changed
  // since it was bound) delivers nowhere, and an offline binding under another connector fills a queue we never read.
  for (const e of events.result) {
    if (Number(e.offline) === 1 ? !isOurConnector(e) : e.handler !== eventHandlerUrl()) continue;
    keys.add(`${Number(e.offline) === 1 ? "offline" : "online"}:${e.event.toUpperCase()}`);
  }
  for (const p of placements.result) if (p.handler === placementHandlerUrl()) keys.add(`placement:${p.placement}`);
  return { keys, events: events.result, placements: placements.result };
}

async function bindOne(client: BitrixClient, b: ExpectedBinding) {
  if (b.kind === "placement") {
    return client.call(
      "placement.bind",
      {
        PLACEMENT: b.code,
        HANDLER: b.handler,
        TITLE: b.title,
        LANG_ALL: { en: { TITLE: "Change history" }, ru: { TITLE: "История изменений" } },
      },
      { lane: "interactive" },
    );
  }
  const params: Record<string, unknown> = { event: b.code, event_type: b.mode };
  if (b.mode === "online") params.handler = b.handler;
  else params.auth_connector = AUTH_CONNECTOR;
  if (b.options) params.options = b.options;
  return client.call("event.bind", params, { lane: "interactive" });
}

const isOurConnector = (e: ActualEvent) => !e.connector_id || e.connector_id === AUTH_CONNECTOR;

/**
 * Bounded cleanup of what no longer serves us (event.get and placement.get list only this app's bindings): online
 * handlers at an old address or for events we no longer use, offline bindings we no longer use, placements whose
 * handler is at an old address. Runs after the new bindings are in place, so nothing is left unbound in between.
 */
async function removeObsolete(
  client: BitrixClient,
  expected: Set<string>,
  actual: Awaited<ReturnType<typeof readActual>>,
): Promise<string[]> {
  const removed: string[] = [];
  const budget = () => removed.length < OBSOLETE_PER_RUN;
  for (const e of actual.events) {
    if (!budget()) break;
    const offline = Number(e.offline) === 1;
    const key = `${offline ? "offline" : "online"}:${e.event.toUpperCase()}`;
    if (offline && expected.has(key) && isOurConnector(e)) continue;
    if (!offline && e.handler === eventHandlerUrl() && expected.has(key)) continue;
    const params = offline
      ? { event: e.event, event_type: "offline", auth_connector: e.connector_id ?? "" }
      : { event: e.event, handler: e.handler };
    await client.call("event.unbind", params, { lane: "interactive" });
    removed.push(offline ? key : `${key} ${e.handler ?? ""}`);
  }
  for (const p of actual.placements) {
    if (!budget()) break;
    // A smart process's tab is ours to remove once its type is gone (ONCRMTYPEDELETE, or found at a rebind).
    const goneType =
      parsePlacement(p.placement)?.key.startsWith("dynamic_") && !expected.has(`placement:${p.placement}`);
    if (p.handler === placementHandlerUrl() && !goneType) continue;
    await client.call("placement.unbind", { PLACEMENT: p.placement, HANDLER: p.handler }, { lane: "interactive" });
    removed.push(`placement:${p.placement} ${p.handler}`);
  }
  return removed;
}

export async function reconcileBindings(
  portalId: string,
  client: BitrixClient,
  features: Record<string, string>,
): Promise<ReconcileReport> {
  // One tab per smart process the portal has now (crm.type.list): a type added or deleted since is bound or unbound.
  const types = await listPortalItemTypes(client);
  const expected = expectedBindings(
    features,
    types.map(entityTypeIdOf).filter((t): t is number => t !== undefined),
  );
  const before = await readActual(client);
  const report: ReconcileReport = { expected: expected.length, bound: [], removed: [], failed: [], missingAfter: [] };
  for (const b of expected.filter((x) => !before.keys.has(keyOf(x)))) {
    try {
      await bindOne(client, b);
      report.bound.push(keyOf(b));
    } catch (e) {
      // Already bound (a concurrent instance won the race) is success, anything else is recorded.
      if (isAlreadyBound(e)) continue;
      report.failed.push({ code: keyOf(b), error: errorMessage(e) });
    }
  }
  report.removed = await removeObsolete(client, new Set(expected.map(keyOf)), before);
  const after = await readActual(client);
  report.missingAfter = expected.filter((b) => !after.keys.has(keyOf(b))).map(keyOf);
  await recordBindingState(portalId, expected, after.keys, report);
  return report;
}

async function recordBindingState(
  portalId: string,
  expected: ExpectedBinding[],
  actual: Set<string>,
  report: ReconcileReport,
) {
  const db = getDb();
  await db.$transaction([
    db.bindingState.deleteMany({ where: { portalId } }),
    db.bindingState.createMany({
      data: expected.map((b) => ({
        portalId,
        kind: b.kind,
        code: b.code,
        mode: b.mode,
        handler: b.handler,
        expected: true,
        actual: actual.has(keyOf(b)),
        lastError: report.failed.find((f) => f.code === keyOf(b))?.error ?? null,
        checkedAt: new Date(),
      })),
    }),
  ]);
}
