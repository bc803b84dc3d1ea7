import { notifyState } from "../methods-notify";
import type { PortalState } from "../types";
import { esc } from "./esc";

// The user's notifications, as the bell panel of a Bitrix24 portal lists them: newest first, with the time, the
// sender and the text. What im.notify.personal.add delivered (methods-notify.ts); a notification with the tag of an
// earlier one replaced it there, so it shows once.

export function unreadCount(portal: PortalState, userId: number): number {
  return notifyState(portal).notifications.filter((n) => n.to === userId).length;
}

export function notificationsPage(portal: PortalState, userId: number): string {
  const mine = notifyState(portal)
    .notifications.filter((n) => n.to === userId)
    .reverse();
  const name = (id: number) => {
    const u = portal.users.get(id);
    return u ? `${u.NAME} ${u.LAST_NAME}` : `#${id}`;
  };
  const items = mine
    .map(
      (n) => `<li class="card" data-notification="${n.id}"><small>${esc(n.at)} · ${esc(name(n.from))}</small>
<p>${esc(n.message)}</p></li>`,
    )
    .join("");
  return `<h1>Notifications</h1>${mine.length ? `<ul style="list-style:none;padding:0">${items}</ul>` : "<p>No notifications.</p>"}`;
}
