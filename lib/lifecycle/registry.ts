import { appUrl } from "@/lib/env";
import {
  detailTabOf,
  DYNAMIC_ITEM_EVENTS,
  FIXED_ENTITY_TYPES,
  keyOfEntityTypeId,
  LEGACY_ENTITIES,
  QUOTE_EVENTS,
  TYPE_EVENTS,
  type EntityKey,
} from "@/lib/history/entity-types";

// What the app needs from a portal, in ONE place: install, update, reconcile, diagnostics and the admin page all
// read this registry (seed: "register required event bindings and placements", "binding matrix").

export const REQUIRED_SCOPES = ["crm", "placement", "user_brief"];
export const OPTIONAL_SCOPES: Record<string, string> = {
  disk: "The portal-wide export to the user's Drive",
  im: "Watch-rule notifications (im.notify.personal.add)",
};

/** method → what stops working without it (shown on the admin page). */
export const REQUIRED_METHODS: Record<string, string> = {
  // Every CRM type is read through crm.item.* (lib/history/items.ts, decision 015).
  "crm.item.list": "Backfill and change capture of every CRM type",
  "crm.item.fields": "Field types and labels of every CRM type",
  "event.bind": "Receiving CRM changes",
  "event.get": "Binding health checks",
  "placement.bind": "The Change history tabs",
  "user.get": "Showing who made a change",
};
export const OPTIONAL_METHODS: Record<string, string> = {
  "crm.timeline.comment.add": "Attach history as CSV",
  "crm.item.update": "Revert a change; attach the history CSV to a file field",
  // crm.item.update cannot change or delete a multifield value (crm/universal/object-fields.md#fm)
  "crm.contact.update": "Revert of phone and e-mail changes (leads and companies alike)",
  // a lead's address is not an item field: read beside it, written back with the lead's own update
  // (lib/history/lead-address.ts)
  "crm.address.list": "A lead's address in its history",
  "crm.lead.update": "Revert of a lead's address",
  "event.offline.get": "Safe offline event queue",
  "event.offline.clear": "Safe offline event queue",
  "event.offline.error": "Safe offline event queue",
  "disk.folder.uploadfile": "Drive upload of exported files",
  "disk.storage.getforapp": "Drive upload of exported files",
  // A self-hosted portal's crm module may predate the universal crm.category.* methods (b24restdocs
  // settings/cloud-and-on-premise/on-premise/versions.md): funnels then show as their ids.
  "crm.category.list": "Funnel names in the history (shown as ids)",
  "crm.type.list": "A Change history tab on every smart process",
  // Newer than a self-hosted portal's crm module may be (on-premise/versions.md): without them the history simply
  // has no product rows / no stage moves from before the install (lib/history/product-rows.ts, stage-history.ts).
  "crm.item.productrow.list": "Product rows in the history",
  "crm.stagehistory.list": "Stage moves from before the install",
};

export const FEATURES: Record<string, string> = {
  rest_offline_extended:
    "Safe offline queue (event.offline.get clear=0); without it CRM changes arrive as online events",
  rest_auth_connector: "Loop-free reverts (auth_connector); without it a local loop guard is used",
};

/** ONOFFLINEEVENT's minTimeout: at most one notification per 5 s however many events are queued. */
export const OFFLINE_NOTIFY_MIN_TIMEOUT_S = 5;
/**
 * A deal moved to another funnel raises ONLY ONCRMDEALMOVETOCATEGORY, never ONCRMDEALUPDATE (b24restdocs
 * crm/deals/events/index.md): without it a funnel move, and the stage it lands on, would go unrecorded.
 */
const CRM_EVENTS = [
  ...LEGACY_ENTITIES.flatMap((e) => ["ADD", "UPDATE", "DELETE"].map((a) => `ONCRM${e.toUpperCase()}${a}`)),
  "ONCRMDEALMOVETOCATEGORY",
  // Quotes, new invoices (ENTITY_TYPE_ID 31) and smart-process items (lib/history/entity-types.ts).
  ...QUOTE_EVENTS,
  ...DYNAMIC_ITEM_EVENTS,
];

export interface ExpectedBinding {
  kind: "event" | "placement";
  code: string;
  mode: "online" | "offline" | "placement";
  handler: string;
  title?: string;
  options?: Record<string, unknown>;
}

export function eventHandlerUrl(): string {
  return appUrl("/api/bitrix/events");
}
export function placementHandlerUrl(): string {
  return appUrl("/bitrix/placement");
}

/**
 * The binding matrix (docs/lifecycle.md): CRM events offline when the portal allows the safe flow, else online.
 * `dynamicTypes`: the entityTypeIds of the portal's smart processes (crm.type.list), one detail tab each; the type
 * events are online, so a type added later gets its tab (and a backfill) at once, without a reinstall.
 */
export function expectedBindings(features: Record<string, string>, dynamicTypes: number[] = []): ExpectedBinding[] {
  const offline = features.rest_offline_extended === "Y";
  const events: ExpectedBinding[] = [
    ...["ONAPPUPDATE", "ONAPPUNINSTALL", "ONAPPMETHODCONFIRM"].map((code) => ({
      kind: "event" as const,
      code,
      mode: "online" as const,
      handler: eventHandlerUrl(),
    })),
    ...CRM_EVENTS.map((code) => ({
      kind: "event" as const,
      code,
      mode: offline ? ("offline" as const) : ("online" as const),
      handler: offline ? "" : eventHandlerUrl(),
    })),
    ...TYPE_EVENTS.map((code) => ({
      kind: "event" as const,
      code,
      mode: "online" as const,
      handler: eventHandlerUrl(),
    })),
  ];
  const tabs: EntityKey[] = [
    ...FIXED_ENTITY_TYPES,
    ...dynamicTypes.map(keyOfEntityTypeId).filter((k): k is EntityKey => k?.startsWith("dynamic_") === true),
  ];
  if (offline)
    events.push({
      kind: "event",
      code: "ONOFFLINEEVENT",
      mode: "online",
      handler: eventHandlerUrl(),
      options: { minTimeout: OFFLINE_NOTIFY_MIN_TIMEOUT_S },
    });
  const placements: ExpectedBinding[] = [
    ...tabs.map((e) => ({
      kind: "placement" as const,
      code: detailTabOf(e),
      mode: "placement" as const,
      handler: placementHandlerUrl(),
      title: "Change history",
    })),
    {
      kind: "placement",
      code: "CRM_DEAL_DETAIL_TOOLBAR",
      mode: "placement",
      handler: placementHandlerUrl(),
      title: "Change history",
    },
  ];
  return [...events, ...placements];
}
