import "server-only";
import { BitrixError, bitrixFor, type BatchResult, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { enqueueJob, yieldToCapture, type BackgroundOptions } from "@/lib/jobs/queue";
import { getFieldMeta } from "@/lib/history/fields";
import { attachLeadAddresses } from "@/lib/history/lead-address";
import { attachFirstProductRows } from "@/lib/history/product-rows";
import { enqueueStageHistory } from "@/lib/history/stage-history";
import { entityTypeIdOf, LEGACY_ENTITIES, type EntityKey } from "@/lib/history/entity-types";
import { nameFiles, type FileLinks } from "@/lib/history/file-names";
import { itemListParams, itemPages, listPortalItemTypes, recordAdapter } from "@/lib/history/items";
import type { CrmRecord } from "@/lib/history/records";
import { recordReader } from "@/lib/history/capture";
import { applySnapshots, insertFirstSnapshots } from "@/lib/history/snapshots";

// Backfill: a baseline snapshot of every record, so the first edit already has something to diff against. The fast
// list pattern inside batch: up to 50 `crm.item.list` commands per request, each continuing after the last id of
// the previous one through `$result[...]` (≈ 2 500 records per request), in the background lane of the shared
// bucket. The cursor is committed with the snapshots it covers (compare-and-set on lastId, so two jobs on one portal
// never double-count or skip), and a killed backfill resumes where it stopped. Run again (after an update, a
// reinstall, or on demand after missed events), records that changed meanwhile are diffed: those changes are stored
// with source "backfill".
// Deals, contacts, companies and leads first, then quotes, new invoices and every smart process of the portal
// (crm.type.list, read at each pass), all through crm.item.list (lib/history/items.ts): a type added later is picked
// up by the next pass, which ONCRMTYPEADD starts (lib/lifecycle/crm-types.ts).
export const LISTS_PER_BATCH = 50;
const PAGE = 50;

class Superseded extends Error {}

function listCommands(key: EntityKey, lastId: number, lists: number) {
  const base = (after: string) =>
    ["crm.item.list", itemListParams(key, { order: { id: "ASC" }, filter: { ">id": after }, start: -1 })] as [
      string,
      Record<string, unknown>,
    ];
  return Object.fromEntries(
    Array.from({ length: lists }, (_, i) => [
      `l${i}`,
      base(i === 0 ? String(lastId) : `$result[l${i - 1}][items][${PAGE - 1}][id]`),
    ]),
  );
}

/**
 * The records after the cursor in one batch request; `done` only when a list page came back short. A command that
 * failed inside the (successful) batch is never read as the end of the list: the first one throws (the step is
 * retried, the cursor stays), a later one ends this step at the last record read (the next step continues there).
 */
export function collect(
  res: BatchResult,
  entityType: string,
  after: number,
): { records: CrmRecord[]; last: number; done: boolean } {
  const records: CrmRecord[] = [];
  let last = after;
  for (let i = 0; i < LISTS_PER_BATCH; i++) {
    const page = res.result[`l${i}`];
    if (!Array.isArray(page)) {
      if (i > 0) return { records, last, done: false };
      const failed = res.errors[`l${i}`];
      throw new BitrixError(
        failed?.error || "MALFORMED_RESPONSE",
        0,
        failed?.error_description ?? "the list command returned no page",
        "crm.item.list",
        failed ? undefined : "malformed",
      );
    }
    // A reference that resolved to nothing restarts the list: keep only IDs past the cursor, in order.
    const fresh = (page as CrmRecord[]).filter((r) => Number(r.ID) > last);
    records.push(...fresh);
    if (fresh.length) last = Number(fresh.at(-1)!.ID);
    if (page.length < PAGE) return { records, last, done: true };
  }
  return { records, last, done: false };
}

/** One batch request for one entity type. Returns whether this entity is complete. */
export async function runBackfillStep(
  portalId: string,
  entityType: string,
  client?: BitrixClient,
): Promise<{ done: boolean; records: number }> {
  const db = getDb();
  const key = { portalId_entityType: { portalId, entityType } };
  const run = await db.backfillRun.upsert({ where: key, create: { portalId, entityType }, update: {} });
  if (run.status === "done") return { done: true, records: 0 };
  const c = client ?? (await bitrixFor(portalId));
  if (run.total === null) {
    const count = await c.call(
      "crm.item.list",
      { entityTypeId: entityTypeIdOf(entityType), select: ["id"], start: 0 },
      { lane: "background" },
    );
    await db.backfillRun.update({ where: key, data: { total: count.total ?? null, status: "running" } });
  }
  const meta = await getFieldMeta(portalId, entityType, c);
  // The same read as live capture (lib/history/items.ts), so the first edit diffs against a like-shaped baseline.
  const commands = listCommands(entityType as EntityKey, run.lastId, LISTS_PER_BATCH);
  const readAt = new Date();
  const answer = await c.batch(commands, { lane: "background", idempotent: true });
  // items in the record shape (ID, DATE_MODIFY, MODIFY_BY_ID; the legacy four under their legacy keys)
  const links: FileLinks = new Map();
  const res = itemPages(answer, recordAdapter(entityType as EntityKey, meta, links));
  const { records, last, done } = collect(res, entityType, run.lastId);
  await attachLeadAddresses(c, entityType, records); // a lead's address is read beside the item (lead-address.ts)
  await nameFiles(c, links, "background"); // and a file's name from its download (file-names.ts)
  await attachFirstProductRows(portalId, entityType, records, c); // a deal's or lead's first snapshot holds its rows
  const first = await insertFirstSnapshots(portalId, entityType, records); // a first install: nearly all of them
  try {
    await applySnapshots(
      portalId,
      entityType,
      records.filter((r) => !first.has(Number(r.ID))),
      meta,
      {
        source: "backfill",
        readAt,
        reread: recordReader(portalId, entityType, c, meta),
        alsoInTransaction: async (tx) => {
          const moved = await tx.backfillRun.updateMany({
            where: { portalId, entityType, lastId: run.lastId, status: { not: "done" } },
            data: {
              lastId: last,
              processed: { increment: records.length },
              heartbeatAt: new Date(),
              status: done ? "done" : "running",
              finishedAt: done ? new Date() : null,
              lastError: null,
            },
          });
          if (moved.count !== 1) throw new Superseded(); // another job moved this cursor meanwhile: its write stands
        },
      },
    );
  } catch (e) {
    if (e instanceof Superseded) return { done: false, records: 0 };
    throw e;
  }
  return { done, records: records.length };
}

/**
 * Job `history.backfill`: steps through every entity for up to `budgetMs` (or until the worker stops), then queues
 * its own continuation — behind other portals' waiting work (lib/jobs/queue.ts claimJobs).
 */
/** How long a backfill waits before it asks a method blocked by its operating time again. */
export const OPERATING_RETRY_MS = 60_000;

export async function runBackfill(
  portalId: string,
  budgetMs = 20_000,
  signal?: AbortSignal,
  opts: BackgroundOptions = {},
): Promise<{ records: number; complete: boolean; retryAt?: Date }> {
  const started = Date.now();
  const client = await bitrixFor(portalId);
  let records = 0;
  let lastStepAt = started;
  for (const entityType of [...LEGACY_ENTITIES, ...(await listPortalItemTypes(client))]) {
    for (;;) {
      if (opts.yieldToCapture) await yieldToCapture(lastStepAt, signal); // capture first (lib/jobs/queue.ts)
      if (signal?.aborted || Date.now() - started > budgetMs) {
        // a type already done costs one row read next time
        await enqueueJob("history.backfill", { portalId });
        return { records, complete: false };
      }
      let step: Awaited<ReturnType<typeof runBackfillStep>>;
      try {
        step = await runBackfillStep(portalId, entityType, client);
      } catch (e) {
        // A method over its operating time is blocked for the rest of Bitrix24's 10-minute window — a command inside
        // a batch too, as that command's error (docs/bitrix24.md#rate-limits). A big portal's backfill reaches it
        // (product rows: one command per owner): it waits, its next slice queued a minute on, instead of failing.
        if (!(e instanceof BitrixError && e.code === "OPERATION_TIME_LIMIT")) throw e;
        const retryAt = new Date(Date.now() + OPERATING_RETRY_MS);
        await enqueueJob("history.backfill", { portalId, runAt: retryAt });
        return { records, complete: false, retryAt };
      }
      records += step.records;
      lastStepAt = Date.now();
      if (step.done) break;
    }
  }
  await enqueueStageHistory(portalId); // the moves from before the install, once (stage-history.ts)
  return { records, complete: true };
}

/** A new pass over every record (install, update, reinstall, or an admin's "Run backfill"), in the workers. */
export async function restartBackfill(portalId: string, reason: string): Promise<void> {
  const db = getDb();
  const fresh = {
    status: "pending",
    lastId: 0,
    processed: 0,
    total: null,
    startedAt: new Date(),
    heartbeatAt: null,
    finishedAt: null,
    lastError: null,
  };
  await db.$transaction([
    ...LEGACY_ENTITIES.map((entityType) =>
      db.backfillRun.upsert({
        where: { portalId_entityType: { portalId, entityType } },
        create: { portalId, entityType },
        update: fresh,
      }),
    ),
    db.backfillRun.updateMany({ where: { portalId }, data: fresh }), // item types (created by their first step)
  ]);
  await enqueueJob("history.backfill", { portalId, dedupeKey: `history.backfill:${portalId}:${reason}:${Date.now()}` });
}

/** A pass for types the portal gained (a smart process added): types already done are skipped at one row read each. */
export async function backfillNewTypes(portalId: string, reason: string): Promise<void> {
  await enqueueJob("history.backfill", { portalId, dedupeKey: `history.backfill:${portalId}:${reason}:${Date.now()}` });
}
