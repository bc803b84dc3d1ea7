import type { EventBinding, OfflineItem, PortalState } from "./types";

// The offline queue as core keeps it (modules/rest/lib/eventoffline.php, EventOfflineTable). Rows are unique by
// (MESSAGE_ID, APP_ID, CONNECTOR_ID, PROCESS_ID); the fake has one app, PROCESS_ID null stands for core's ''.

/**
 * `callEvent`: a new event for an object MERGES into the unreserved row of the same MESSAGE_ID — TIMESTAMP_X,
 * EVENT_DATA and EVENT_ADDITIONAL are updated, ERROR is not (its update fields hold no ERROR). So once a row is marked
 * by event.offline.error, every later event for that object lands in the error row, which only
 * `event.offline.get error=1` returns. A row reserved by a process_id is another key: the event gets a new row.
 */
export function queueOfflineItem(portal: PortalState, item: OfflineItem) {
  const same = (x: OfflineItem) => x.MESSAGE_ID === item.MESSAGE_ID && x.connector === item.connector;
  const i = portal.offline.findIndex((x) => same(x) && x.PROCESS_ID === null);
  if (i >= 0) {
    const prev = portal.offline[i]!;
    portal.offline.splice(i, 1);
    Object.assign(item, { ID: prev.ID, ERROR: prev.ERROR });
  }
  // Appended: get orders by TIMESTAMP_X ASC by default, and the merged row now has the newest timestamp.
  portal.offline.push(item);
}

/**
 * `markError(processId, …, messageIds)`, its three statements: (1) delete the unmarked rows of those messages that
 * are NOT in this process (a newer event for the object, queued meanwhile, is dropped — the error row stands for
 * it); (2) the unmarked rows of this process become error rows with PROCESS_ID '' (rows of other processes too, via
 * 'fake_process_id', which (3) then deletes). Rows already marked ERROR=1 are untouched: re-marking an error row
 * read with error=1 leaves it reserved by its process_id.
 */
export function markOfflineErrors(portal: PortalState, processId: string, connector: string, messageIds: string[]) {
  const hit = (x: OfflineItem) => x.connector === connector && messageIds.includes(x.MESSAGE_ID);
  portal.offline = portal.offline.filter((x) => !(hit(x) && x.ERROR === 0 && x.PROCESS_ID !== processId));
  for (const x of portal.offline) {
    if (hit(x) && x.ERROR === 0) Object.assign(x, { ERROR: 1, PROCESS_ID: null });
  }
}

const lastSent = new WeakMap<PortalState, Map<number, number>>();
const sentThisHit = new WeakMap<PortalState, Set<number>>();

/**
 * `checkSendTime(handlerId, minTimeout)` (eventoffline.php, called from prepareOfflineEvent): throttled per
 * ONOFFLINEEVENT binding. minTimeout > 0: one notification, then none until that many seconds passed (a cache entry
 * per handler); 0: one per Bitrix24 hit (a static flag) — a hit here is one turn of the event loop, i.e. one REST
 * call or control request. Default 1 s (api-reference/events/on-offline-event.md "Notification Frequency").
 */
export function offlineNotifyDue(portal: PortalState, binding: EventBinding, nowMs: number): boolean {
  if (binding.minTimeout <= 0) {
    let sent = sentThisHit.get(portal);
    if (!sent) {
      sent = new Set();
      sentThisHit.set(portal, sent);
      setImmediate(() => sentThisHit.delete(portal));
    }
    if (sent.has(binding.id)) return false;
    sent.add(binding.id);
    return true;
  }
  const last = lastSent.get(portal) ?? new Map<number, number>();
  lastSent.set(portal, last);
  const at = last.get(binding.id);
  if (at !== undefined && nowMs - at < binding.minTimeout * 1000) return false;
  last.set(binding.id, nowMs);
  return true;
}
