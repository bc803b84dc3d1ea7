import { E, RestError } from "./errors";
import type { Ctx, MethodTable } from "./rest-types";
import type { PortalState } from "./types";

// Notifications and automation triggers as Bitrix24 serves them to an app:
// - im.notify.personal.add (b24restdocs api-reference/chats/notifications/im-notify-personal-add.md): scope `im`,
//   only "when called through the application" (a webhook: WRONG_AUTH_TYPE); USER_ID > 0 (USER_ID_EMPTY), MESSAGE
//   trimmed and not empty (MESSAGE_EMPTY); a TAG replaces the app's earlier notification with that tag; the answer
//   is the notification's id.
// - crm.automation.trigger.add / execute / list / delete (api-reference/crm/automation/triggers/*.md): admins only,
//   application context only; CODE of Latin letters, digits, ".", "-", "_"; add with a known CODE renames it;
//   execute of an unregistered CODE is a 400 naming it; OWNER_TYPE_ID must be a CRM type; `true` does not mean a
//   stage moved. Their 400s carry an empty `error` code, as the page's table shows.
export interface Notification {
  id: number;
  to: number;
  from: number;
  message: string;
  tag: string | null;
  at: string;
}
export interface NotifyState {
  notifications: Notification[];
  nextId: number;
  triggers: Map<string, string>;
  executions: { code: string; ownerTypeId: number; ownerId: number; at: string }[];
}

export function notifyState(portal: PortalState): NotifyState {
  const p = portal as PortalState & { notify?: NotifyState };
  p.notify ??= { notifications: [], nextId: 1, triggers: new Map(), executions: [] };
  return p.notify;
}

const bad = (description: string) => new RestError(400, "", description);
const CODE = /^[A-Za-z0-9._-]+$/;
const OWNER_TYPES = new Set([1, 2, 3, 4, 7, 31]);

function appOnly(ctx: Ctx) {
  if (ctx.viaWebhook) throw E.wrongAuthType();
}

function adminApp(ctx: Ctx) {
  if (ctx.viaWebhook) throw E.denied("Access denied! Application context required");
  if (!ctx.isAdmin) throw E.denied("Access denied! Admin permissions required");
}

function code(p: Record<string, unknown>): string {
  const c = String(p.CODE ?? "").trim();
  if (!c || c === "0") throw bad("Empty trigger code!");
  if (!CODE.test(c)) throw bad("Wrong trigger code!");
  return c;
}

export const notifyMethods: MethodTable = {
  "im.notify.personal.add": (ctx, p) => {
    appOnly(ctx);
    const to = Number(p.USER_ID);
    if (!Number.isInteger(to) || to <= 0) throw new RestError(400, "USER_ID_EMPTY", "User ID can't be empty");
    const message = String(p.MESSAGE ?? "").trim();
    if (!message) throw new RestError(400, "MESSAGE_EMPTY", "Message can't be empty");
    const s = notifyState(ctx.portal);
    const tag = p.TAG ? String(p.TAG) : null;
    if (tag) s.notifications = s.notifications.filter((n) => n.tag !== tag);
    const n = { id: s.nextId++, to, from: ctx.userId, message, tag, at: ctx.fake.clock.iso() };
    s.notifications.push(n);
    return n.id;
  },
  "crm.automation.trigger.add": (ctx, p) => {
    adminApp(ctx);
    const c = code(p);
    const name = String(p.NAME ?? "").trim();
    if (!name || name === "0") throw bad("Empty trigger name!");
    notifyState(ctx.portal).triggers.set(c, name);
    return true;
  },
  "crm.automation.trigger.list": (ctx) => {
    adminApp(ctx);
    return [...notifyState(ctx.portal).triggers].map(([CODE_, NAME]) => ({ NAME, CODE: CODE_ }));
  },
  "crm.automation.trigger.delete": (ctx, p) => {
    adminApp(ctx);
    notifyState(ctx.portal).triggers.delete(code(p));
    return true;
  },
  "crm.automation.trigger.execute": (ctx, p) => {
    adminApp(ctx);
    const c = code(p);
    const s = notifyState(ctx.portal);
    if (!s.triggers.has(c)) throw bad(`Trigger with code ${c} is not registered.`);
    const ownerTypeId = Number(p.OWNER_TYPE_ID);
    const known = OWNER_TYPES.has(ownerTypeId) || ctx.portal.items.stores.has(ownerTypeId);
    if (!known) throw bad("Incorrect parameter OWNER_TYPE_ID.");
    const ownerId = Number(p.OWNER_ID);
    if (!Number.isInteger(ownerId) || ownerId <= 0) throw bad("Incorrect parameter OWNER_ID.");
    s.executions.push({ code: c, ownerTypeId, ownerId, at: ctx.fake.clock.iso() });
    return true;
  },
};
