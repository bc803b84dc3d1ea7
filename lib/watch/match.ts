import "server-only";
import type { Prisma, WatchRule } from "@prisma/client";
import { changeFacts, type ChangeFactsOf } from "@/lib/history/search";

// Watch rules on the capture path (docs/watch-rules.md): matched in memory against the changes one capture batch
// stores, inside that batch's transaction, and handed to delivery as one `watch.deliver` job written in the same
// transaction (an outbox: a change committed is a notification owed, a rolled-back batch owes none). A portal's rules
// are kept per process and read again only when the portal's `watchRulesVersion` moved — the capture transaction
// reads the portal's row anyway (snapshots.ts), and rules.ts bumps it with every rule added or deleted — so a new rule
// applies to the very next change in every worker process, a portal without rules costs one map lookup, and 1 000
// rules cost a loop over them per change: no extra query, no REST call on this path. (A per-process time-to-live
// before it let a worker miss a rule for 30 s after it was added: the e2e watch-rules spec found it.)
// The portal's notification pause (docs/watch-rules.md "Notification settings") is kept with its rules: saving it
// bumps the same version (lib/admin/settings.ts), so a pause applies to the very next change too.
interface PortalRules {
  version: number;
  rules: WatchRule[];
  paused: boolean;
}
const cache = new Map<string, PortalRules>();

async function rulesOf(tx: Prisma.TransactionClient, portalId: string, version: number): Promise<PortalRules> {
  const hit = cache.get(portalId);
  if (hit && hit.version === version) return hit;
  const rules = await tx.watchRule.findMany({ where: { portalId, active: true } });
  const portal = await tx.portal.findUnique({ where: { id: portalId }, select: { watchPaused: true } });
  const fresh = { version, rules, paused: portal?.watchPaused ?? false };
  cache.set(portalId, fresh);
  return fresh;
}

export type StoredChange = ChangeFactsOf & { source: string };
export type Delivery = ReturnType<typeof changeFacts> & {
  ruleId: string;
  to: number | null;
  triggerCode: string | null;
  lang: string;
  ruleName: string;
};

/** Sources a person acted in (an edit, a revert, an edit a sweep found); a backfill or old stage history is not news. */
const NEWS = new Set(["event", "reconciled", "revert"]);
const isEmpty = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
/** The record's responsible person: ASSIGNED_BY_ID (crm.<entity>.*) or assignedById (crm.item.*). */
const responsibleOf = (record: Record<string, unknown> | undefined) =>
  Number(record?.ASSIGNED_BY_ID ?? record?.assignedById) || null;

/**
 * What the rules ask for, given the changes of one batch and the records as read. Pure. A person told of one change by
 * several rules gets one notification naming them all; a trigger is kept per rule (each is its own automation hook).
 * While the portal's notifications are paused nobody is told, but triggers still run: robots depend on them.
 */
export function matchRules(
  rules: WatchRule[],
  changes: StoredChange[],
  records: Map<number, Record<string, unknown>>,
  opts: { paused?: boolean } = {},
): Delivery[] {
  const out: Delivery[] = [];
  const told = new Map<string, Delivery>();
  const tell = (to: number, d: Omit<Delivery, "to" | "triggerCode">) => {
    if (opts.paused) return;
    const key = `${to}|${d.entityType}|${d.entityId}|${d.field}|${d.changedAt}`;
    const earlier = told.get(key);
    if (earlier) {
      if (!earlier.ruleName.split(", ").includes(d.ruleName)) earlier.ruleName += `, ${d.ruleName}`;
      return;
    }
    const delivery = { ...d, to, triggerCode: null };
    told.set(key, delivery);
    out.push(delivery);
  };
  for (const c of changes) {
    if (!NEWS.has(c.source)) continue;
    for (const r of rules) {
      if (r.entityType !== c.entityType) continue;
      if (r.fields.length ? !r.fields.includes(c.field) : c.field.startsWith("__")) continue;
      if (r.condition === "cleared" && !(isEmpty(c.newValue) && !isEmpty(c.oldValue))) continue;
      const responsible = responsibleOf(records.get(c.entityId));
      const base = { ruleId: r.id, ...changeFacts(c), lang: r.lang, ruleName: r.name };
      if (r.scope === "personal") {
        if (r.onlyMine && responsible !== r.createdById) continue;
        if (c.changedById === r.createdById) continue; // nobody needs telling what they just did
        tell(r.createdById, base);
        continue;
      }
      if (r.notifyResponsible && responsible && responsible !== c.changedById) tell(responsible, base);
      if (r.triggerCode) out.push({ ...base, to: null, triggerCode: r.triggerCode });
    }
  }
  return out;
}

/** Inside the capture transaction: the deliveries this batch owes, queued as one job (or nothing at all). */
export async function queueWatchDeliveries(
  tx: Prisma.TransactionClient,
  portalId: string,
  changes: StoredChange[],
  records: Map<number, Record<string, unknown>>,
  rulesVersion: number,
): Promise<number> {
  if (!changes.length) return 0;
  const { rules, paused } = await rulesOf(tx, portalId, rulesVersion);
  if (!rules.length) return 0;
  const deliveries = matchRules(rules, changes, records, { paused });
  if (!deliveries.length) return 0;
  await tx.job.create({
    data: { kind: "watch.deliver", portalId, payload: { deliveries } as unknown as Prisma.InputJsonValue },
  });
  return deliveries.length;
}
