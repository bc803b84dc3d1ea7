import { E, RestError } from "./errors";
import { hex } from "./core";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import { markOfflineErrors } from "./offline-queue";
import type { OfflineItem } from "./types";

// event.* and placement.* (docs/bitrix24.md#event-bind, #offline-events, #placements). App context only; binding
// offline/unbinding needs an admin.

const appOnly = (ctx: Ctx) => {
  if (ctx.viaWebhook) throw E.wrongAuthType();
};
const adminOnly = (ctx: Ctx, msg = "Access denied!") => {
  appOnly(ctx);
  if (!ctx.isAdmin) throw E.denied(msg);
};
const KNOWN_EVENT =
  /^(ONAPP(INSTALL|UNINSTALL|UPDATE|PAYMENT|TEST|METHODCONFIRM)|ONOFFLINEEVENT|ONCRM[A-Z_0-9]+|ONUSERADD)$/;

function validHandler(handler: string) {
  let u: URL;
  try {
    u = new URL(handler);
  } catch {
    throw new RestError(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL");
  }
  if (!/^https?:$/.test(u.protocol)) throw new RestError(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported protocol");
}

function offlineOut(x: OfflineItem, withProcess = false) {
  const base = {
    ID: String(x.ID),
    TIMESTAMP_X: x.TIMESTAMP_X,
    EVENT_NAME: x.EVENT_NAME,
    EVENT_DATA: x.EVENT_DATA,
    EVENT_ADDITIONAL: x.EVENT_ADDITIONAL,
    MESSAGE_ID: x.MESSAGE_ID,
  };
  return withProcess ? { ...base, PROCESS_ID: x.PROCESS_ID, ERROR: String(x.ERROR) } : base;
}

function offlineFilter(items: OfflineItem[], filter: Record<string, unknown>) {
  return items.filter((x) =>
    Object.entries(filter).every(([k, v]) => {
      const m = /^(>=|<=|>|<|=)?(.+)$/.exec(k)!;
      const have = (x as unknown as Record<string, unknown>)[m[2]!];
      const [a, b] = [Number(have), Number(v)];
      switch (m[1]) {
        case ">":
          return a > b;
        case ">=":
          return a >= b;
        case "<":
          return a < b;
        case "<=":
          return a <= b;
        default:
          return String(have) === String(v);
      }
    }),
  );
}

export const eventMethods: MethodTable = {
  "event.bind": (ctx, p) => {
    appOnly(ctx);
    const event = String(p.event ?? p.EVENT ?? "").toUpperCase();
    const offline = String(p.event_type ?? "online").toLowerCase() === "offline";
    if (!KNOWN_EVENT.test(event)) throw new RestError(400, "ERROR_EVENT_NOT_FOUND", "Event not found");
    if (offline && !ctx.isAdmin)
      throw E.denied("Access denied! Offline events binding requires administrator access rights");
    if (offline && event === "ONOFFLINEEVENT") throw E.arg("Offline event cannot be registered for this event.");
    const handler = offline ? "" : String(p.handler ?? p.HANDLER ?? "");
    if (!offline) validHandler(handler);
    const connector = String(p.auth_connector ?? "");
    if (
      ctx.portal.bindings.some(
        (b) => b.event === event && b.handler === handler && b.offline === offline && b.connector === connector,
      )
    ) {
      // EventTable::add refuses a duplicate and core wraps its message (modules/rest/lib/api/event.php eventBind;
      // b24restdocs ru event-bind.md error table): ERROR_CORE, not a dedicated code.
      throw new RestError(400, "ERROR_CORE", "Unable to set event handler: Handler already binded");
    }
    const options = (p.options ?? {}) as Record<string, unknown>;
    ctx.portal.bindings.push({
      id: ctx.portal.nextBindingId++,
      event,
      handler,
      authType: Number(p.auth_type ?? 0),
      offline,
      connector,
      minTimeout: Number(options.minTimeout ?? 1),
    });
    return true;
  },
  "event.unbind": (ctx, p) => {
    adminOnly(ctx);
    const event = String(p.event ?? "").toUpperCase();
    const offline = String(p.event_type ?? "online").toLowerCase() === "offline";
    const before = ctx.portal.bindings.length;
    ctx.portal.bindings = ctx.portal.bindings.filter(
      (b) => !(b.event === event && b.offline === offline && (offline || b.handler === String(p.handler ?? ""))),
    );
    return { count: before - ctx.portal.bindings.length };
  },
  "event.get": (ctx) => {
    appOnly(ctx);
    return ctx.portal.bindings.map((b) =>
      b.offline
        ? { event: b.event, connector_id: b.connector, offline: 1 }
        : { event: b.event, handler: b.handler, auth_type: String(b.authType), offline: 0 },
    );
  },
  "event.offline.get": (ctx, p) => {
    adminOnly(ctx);
    const clear = String(p.clear ?? "1") !== "0";
    const connector = String(p.auth_connector ?? "");
    if (!clear && ctx.portal.features.rest_offline_extended !== "Y")
      throw new RestError(403, "WRONG_LICENSE", "clear=0 requires rest_offline_extended");
    const limit = Math.max(1, Math.min(1000, Number(p.limit ?? 50)));
    const mine = ctx.portal.offline.filter((x) => x.connector === connector);
    let batch: OfflineItem[];
    // `=ERROR` is part of the filter also when a batch is re-read by process_id (event.php eventOfflineGet): a
    // reserved batch of error rows comes back only with error=1 again.
    const wantErrors = String(p.error ?? "0") === "1";
    const sameError = (x: OfflineItem) => (wantErrors ? x.ERROR === 1 : x.ERROR === 0);
    if (p.process_id) batch = mine.filter((x) => x.PROCESS_ID === String(p.process_id) && sameError(x));
    else {
      const free = mine.filter((x) => x.PROCESS_ID === null && sameError(x));
      batch = offlineFilter(free, (p.filter ?? {}) as Record<string, unknown>).slice(0, limit);
    }
    if (clear) {
      ctx.portal.offline = ctx.portal.offline.filter((x) => !batch.includes(x));
      return { process_id: null, events: batch.map((x) => offlineOut(x)) };
    }
    // Parallel callers get disjoint sets: a reserved item is invisible to the next get.
    const processId = p.process_id ? String(p.process_id) : batch.length ? hex(16) : null;
    batch.forEach((x) => {
      x.PROCESS_ID = processId;
    });
    return { process_id: processId, events: batch.map((x) => offlineOut(x)) };
  },
  "event.offline.clear": (ctx, p) => {
    adminOnly(ctx);
    if (!p.process_id) throw E.arg("PROCESS_ID is empty", "process_id");
    const ids = p.id ? Object.values(p.id as Record<string, unknown>).map(String) : null;
    const msgs = p.message_id ? Object.values(p.message_id as Record<string, unknown>).map(String) : null;
    if (msgs?.some((m) => m.length !== 32)) throw E.arg("Wrong MESSAGE_ID", "message_id");
    ctx.portal.offline = ctx.portal.offline.filter(
      (x) =>
        !(
          x.PROCESS_ID === String(p.process_id) &&
          (!ids || ids.includes(String(x.ID))) &&
          (!msgs || msgs.includes(x.MESSAGE_ID))
        ),
    );
    return true;
  },
  "event.offline.error": (ctx, p) => {
    adminOnly(ctx);
    if (!p.process_id) throw E.arg("PROCESS_ID is empty", "process_id");
    const msgs = Object.values((p.message_id ?? {}) as Record<string, unknown>).map(String);
    markOfflineErrors(ctx.portal, String(p.process_id), String(p.auth_connector ?? ""), msgs);
    return true;
  },
  "event.offline.list": (ctx, p) => {
    adminOnly(ctx);
    const start = Number(p.start ?? 0);
    const all = offlineFilter(
      ctx.portal.offline.filter((x) => x.connector === String(p.auth_connector ?? "")),
      (p.filter ?? {}) as Record<string, unknown>,
    );
    return new ListAnswer(
      all.slice(start, start + 50).map((x) => offlineOut(x, true)),
      all.length,
      start + 50 < all.length ? start + 50 : undefined,
    );
  },
  "placement.bind": (ctx, p) => {
    adminOnly(ctx);
    const placement = String(p.PLACEMENT ?? "");
    const handler = String(p.HANDLER ?? "");
    if (!placement) throw E.arg("Argument 'PLACEMENT' is null or empty", "PLACEMENT");
    if (!handler) throw E.arg("Argument 'HANDLER' is null or empty", "HANDLER");
    if (!/^(CRM_|LEFT_MENU|REST_APP_URI|TASK_|USER_PROFILE)/.test(placement))
      throw new RestError(400, "ERROR_PLACEMENT_NOT_FOUND", "Placement not found");
    validHandler(handler);
    // PlacementTable::checkFields "Handler already binded", wrapped by core (modules/rest/lib/api/placement.php bind).
    if (ctx.portal.placements.some((x) => x.placement === placement && x.handler === handler)) {
      throw new RestError(400, "ERROR_CORE", "Unable to set placement handler: Handler already binded");
    }
    ctx.portal.placements.push({
      placement,
      handler,
      title: String(p.TITLE ?? ""),
      description: String(p.DESCRIPTION ?? ""),
      groupName: String(p.GROUP_NAME ?? ""),
      langAll: (p.LANG_ALL ?? {}) as Record<string, unknown>,
      options: (p.OPTIONS ?? {}) as Record<string, unknown>,
      userId: Number(p.USER_ID ?? 0),
    });
    return true;
  },
  "placement.unbind": (ctx, p) => {
    adminOnly(ctx);
    const before = ctx.portal.placements.length;
    ctx.portal.placements = ctx.portal.placements.filter(
      (x) => !(x.placement === String(p.PLACEMENT) && (!p.HANDLER || x.handler === String(p.HANDLER))),
    );
    return { count: before - ctx.portal.placements.length };
  },
  "placement.get": (ctx) => {
    adminOnly(ctx);
    return ctx.portal.placements.map((x) => ({
      placement: x.placement,
      userId: x.userId,
      handler: x.handler,
      options: Object.keys(x.options).length ? x.options : [],
      title: x.title,
      description: x.description,
      langAll: x.langAll,
    }));
  },
  "placement.list": (ctx) => {
    appOnly(ctx);
    return [
      "CRM_DEAL_DETAIL_TAB",
      "CRM_CONTACT_DETAIL_TAB",
      "CRM_COMPANY_DETAIL_TAB",
      "CRM_LEAD_DETAIL_TAB",
      "CRM_DEAL_DETAIL_TOOLBAR",
      "CRM_DEAL_LIST_MENU",
      "LEFT_MENU",
      "REST_APP_URI",
    ];
  },
};
