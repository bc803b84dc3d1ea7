// When one read of a record stands for what may be several edits (docs/history.md "Merged edits"). A diff is always
// credited to the last editor (MODIFY_BY_ID) at the last DATE_MODIFY; when other edits may hide in it, the change
// also keeps the interval they fall in — after the previous snapshot's DATE_MODIFY, up to this one — and the tab
// says "changed between … and …; last edited by …" instead of inventing one edit.

/** What made live capture read a record: the events it settles (lib/events/handlers/crm.ts). */
export interface ReadTrigger {
  /** events for this record that this read settles */
  events: number;
  /** one of them came from the offline queue, which keeps one row per object however often it changed */
  offline: boolean;
  /** `ts` of the newest online event: core stamps it (time()) in the hit that saved the record */
  lastEventAt: Date | null;
}

export type ChangeSource = "event" | "backfill" | "reconciled";

/** DATE_MODIFY and an event's `ts` are whole seconds from the same hit: a later second is a later save. */
const SAME_SAVE_MS = 1000;

/**
 * The start of the interval a change may merge several edits over, or null when it is one edit. Merged: a sweep or
 * a backfill pass (one read for however many edits since the snapshot), a read for an offline-queue row, a read that
 * settled several events, and a read that found DATE_MODIFY later than its newest event (saved again meanwhile).
 * Not merged: a read for one online event that found that event's save — or no earlier DATE_MODIFY to start from.
 */
export function mergedFrom(
  source: ChangeSource,
  previous: Date | null,
  modifiedAt: Date,
  trigger?: ReadTrigger,
): Date | null {
  if (!previous || previous.getTime() >= modifiedAt.getTime()) return null;
  if (source !== "event") return previous;
  if (!trigger) return null;
  const later = trigger.lastEventAt !== null && modifiedAt.getTime() >= trigger.lastEventAt.getTime() + SAME_SAVE_MS;
  return trigger.offline || trigger.events > 1 || later ? previous : null;
}
