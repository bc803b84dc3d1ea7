import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { enqueueJob } from "@/lib/jobs/queue";
import { getFieldMeta } from "@/lib/history/fields";
import { recordSelect } from "@/lib/history/records";

// Backfill: a baseline snapshot of every record, so the first edit already has something to diff against. The fast
// list pattern inside batch: up to 50 `crm.<entity>.list` commands per request, each continuing after the last ID of
// the previous one through `$result[...]` (≈ 2 500 records per request), in the background lane of the shared
// bucket. The cursor is committed with the snapshots it covers, so a killed backfill resumes where it stopped.
export const ENTITIES = ["deal", "contact", "company", "lead"] as const;
export const LISTS_PER_BATCH = 50;
const PAGE = 50;

function listCommands(entityType: string, lastId: number, lists: number, select: string[]) {
  const base = (after: string) => [`crm.${entityType}.list`, { order: { ID: "ASC" }, filter: { ">ID": after }, select, start: -1 }] as [string, Record<string, unknown>];
  return Object.fromEntries(Array.from({ length: lists }, (_, i) => [`l${i}`, base(i === 0 ? String(lastId) : `$result[l${i - 1}][${PAGE - 1}][ID]`)]));
}

/** One batch request for one entity type. Returns whether this entity is complete. */
export async function runBackfillStep(portalId: string, entityType: string, client?: BitrixClient): Promise<{ done: boolean; records: number }> {
  const db = getDb();
  const run = await db.backfillRun.upsert({ where: { portalId_entityType: { portalId, entityType } }, create: { portalId, entityType }, update: {} });
  if (run.status === "done") return { done: true, records: 0 };
  const c = client ?? (await bitrixFor(portalId));
  if (run.total === null) {
    const count = await c.call(`crm.${entityType}.list`, { select: ["ID"], start: 0 }, { lane: "background" });
    await db.backfillRun.update({ where: { portalId_entityType: { portalId, entityType } }, data: { total: count.total ?? null, status: "running" } });
  }
  // The same select as live capture (lib/history/records.ts), so the first edit diffs against a like-shaped baseline.
  const select = recordSelect(await getFieldMeta(portalId, entityType, c));
  const res = await c.batch(listCommands(entityType, run.lastId, LISTS_PER_BATCH, select), { lane: "background", idempotent: true });
  const records: Record<string, unknown>[] = [];
  let done = false;
  let last = run.lastId;
  for (let i = 0; i < LISTS_PER_BATCH; i++) {
    const page = res.result[`l${i}`];
    if (!Array.isArray(page)) { done = i === 0; break; }
    // A reference that resolved to nothing restarts the list: keep only IDs past the cursor, in order.
    const fresh = (page as Record<string, unknown>[]).filter((r) => Number(r.ID) > last);
    records.push(...fresh);
    if (fresh.length) last = Number(fresh.at(-1)!.ID);
    if (page.length < PAGE) { done = true; break; }
  }
  await db.$transaction([
    db.crmSnapshot.createMany({ data: records.map((r) => ({ portalId, entityType, entityId: Number(r.ID), fields: r as Prisma.InputJsonValue, modifiedAt: r.DATE_MODIFY ? new Date(String(r.DATE_MODIFY)) : null })), skipDuplicates: true }),
    db.backfillRun.update({ where: { portalId_entityType: { portalId, entityType } }, data: { lastId: last, processed: { increment: records.length }, heartbeatAt: new Date(), status: done ? "done" : "running", finishedAt: done ? new Date() : null } }),
  ]);
  return { done, records: records.length };
}

/** Job `history.backfill`: steps through every entity for up to `budgetMs`, then queues its own continuation. */
export async function runBackfill(portalId: string, budgetMs = 20_000): Promise<{ records: number; complete: boolean }> {
  const started = Date.now();
  const client = await bitrixFor(portalId);
  let records = 0;
  for (const entityType of ENTITIES) {
    for (;;) {
      const step = await runBackfillStep(portalId, entityType, client);
      records += step.records;
      if (step.done) break;
      if (Date.now() - started > budgetMs) {
        await enqueueJob("history.backfill", { portalId });
        return { records, complete: false };
      }
    }
  }
  return { records, complete: true };
}
