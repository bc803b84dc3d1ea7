import type { PortalState } from "./types";

// Test control, not a Bitrix24 behaviour: hold the next REST call of a method until the test releases it
// (POST /_fake/hold, POST /_fake/release; docs/fake-portal.md). A crash test kills the app's process while the call
// is held, which pins the crash to a known step of the app's work instead of a latency window. The release decides
// what Bitrix24 did with the call of the process that died:
// - "drop": the call never ran (the crash came before the request reached the portal): the connection is closed;
// - "run": the portal ran it and the answer went nowhere (the crash came after the request was sent).
export type HoldOutcome = "run" | "drop";

interface Hold {
  method: string;
  /** only a call whose decoded query or body contains this text (e.g. a batch's command) is held */
  contains?: string;
  held?: { logN: number | null; params: unknown; release: (outcome: HoldOutcome) => void };
}

const holds = new WeakMap<PortalState, Hold[]>();
const listOf = (portal: PortalState) => holds.get(portal) ?? holds.set(portal, []).get(portal)!;

function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** The armed holds and whether each holds a call now: a test waits for `held` before it releases. */
export const listHolds = (portal: PortalState) =>
  listOf(portal).map((h) => ({ method: h.method, contains: h.contains ?? null, held: Boolean(h.held) }));

export function armHold(portal: PortalState, method: string, contains?: string) {
  listOf(portal).push({ method: method.toLowerCase(), ...(contains ? { contains } : {}) });
  return listHolds(portal);
}

/**
 * Called by the REST handler before anything else, in the same turn as the request was logged: null when this call is
 * not held, else a promise of the outcome the test chose.
 */
export function heldCall(
  portal: PortalState,
  method: string,
  raw: string,
  params: () => unknown,
): Promise<HoldOutcome> | null {
  const text = decoded(raw);
  const hold = listOf(portal).find((h) => !h.held && h.method === method && (!h.contains || text.includes(h.contains)));
  if (!hold) return null;
  let parsed: unknown;
  try {
    parsed = params();
  } catch {
    parsed = text;
  }
  return new Promise((release) => {
    hold.held = { logN: portal.log.at(-1)?.n ?? null, params: parsed, release };
  });
}

/** Releases the held call of `method` (or disarms a hold no call has met yet); says which call was held. */
export function releaseHold(portal: PortalState, method: string, outcome: HoldOutcome) {
  const list = listOf(portal);
  const name = method.toLowerCase();
  const hold = list.find((h) => h.method === name && h.held) ?? list.find((h) => h.method === name);
  if (!hold) throw new Error(`no hold on ${name}`);
  list.splice(list.indexOf(hold), 1);
  if (!hold.held) return { held: false };
  hold.held.release(outcome);
  return { held: true, logN: hold.held.logN, params: hold.held.params, outcome };
}
