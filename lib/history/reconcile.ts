import "server-only";
import { bitrixFor, type BatchResult, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { collect, LISTS_PER_BATCH } from "@/lib/history/backfill";
import { recordReader } from "@/lib/history/capture";
import { LEGACY_ENTITIES, type EntityKey } from "@/lib/history/entity-types";
import { getFieldMeta } from "@/lib/history/fields";
import { nameFiles, type FileLinks } from "@/lib/history/file-names";
import { itemListParams, itemPages, listPortalItemTypes, recordAdapter } from "@/lib/history/items";
import { attachLeadAddresses } from "@/lib/history/lead-address";
import type { CrmRecord } from "@/lib/history/records";
import { applySnapshots } from "@/lib/history/snapshots";
import { resolveUserNames } from "@/lib/history/users";
import { yieldToCapture, type BackgroundOptions } from "@/lib/jobs/queue";

// Reconciliation: Bitrix24 never resends an online event whose delivery failed, so a lost event would leave its edit
// unrecorded until the record changes again. Every `reconcileEveryMin` (Portal, default 15) a sweep lists, per entity
// type, the records whose DATE_MODIFY is at or after its watermark — `crm.item.list` `>=updatedTime` (the item name
// of DATE_MODIFY), `>id` keyset pages, the same read as live capture (records.ts, items.ts) — and diffs them against
// their
// snapshots (snapshots.ts). What it finds is stored with source "reconciled", the record's DATE_MODIFY and
// MODIFY_BY_ID, and becomes the snapshot: an event arriving later for the same change diffs to nothing.
//
// The watermark is the portal's own clock: the first page is a plain call, whose answer carries `time.date_start`
// (the instant the portal started serving it, ISO 8601 with the portal's offset — b24restdocs
// api-reference/data-types.md#time), and the next sweep starts OVERLAP_MS before it. Records saved while this sweep
// ran have a DATE_MODIFY after date_start (found next time); the overlap covers DATE_MODIFY's one-second precision and
// saves that commit later than they were stamped. Re-reading a record costs a read, never a second change.
export const OVERLAP_MS = 60_000;
const PAGE = 50;

const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");

/** `iso` moved by `ms`, written in the offset it was written in (the portal's), so the filter reads as the portal's. */
export function shiftIso(iso: string, ms: number): string {
  const m = /([+-])(\d{2}):?(\d{2})$/.exec(iso);
  const offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(Date.parse(iso) + ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? "-" : "+"}${pad(abs / 60)}:${pad(abs % 60)}`;
}

const at = (v: unknown) => (typeof v === "string" ? Date.parse(v) : NaN);

type Command = [string, Record<string, unknown>];

/** The records modified since `since` past `after`: `crm.item.list` `>=updatedTime` (crm-item-list.md filters). */
function listParams(entityType: string, since: string, after: string): Command {
  return [
    "crm.item.list",
    itemListParams(entityType as EntityKey, {
      order: { id: "ASC" },
      filter: { ">=updatedTime": since, ">id": after },
      start: -1,
    }),
  ];
}

function listCommands(entityType: string, since: string, lastId: number) {
  const ref = (i: number) => (i === 0 ? String(lastId) : `$result[l${i - 1}][items][${PAGE - 1}][id]`);
  const lists = Array.from({ length: LISTS_PER_BATCH }, (_, i) => [`l${i}`, listParams(entityType, since, ref(i))]);
  return Object.fromEntries(lists) as Record<string, Command>;
}

/** Items created at or after `since` in a batch of crm.item.list answers (`createdTime`, not kept by every adapter). */
function itemsCreatedSince(res: BatchResult, since: string): Set<number> {
  const out = new Set<number>();
  for (const v of Object.values(res.result)) {
    for (const item of (v as { items?: Record<string, unknown>[] } | null)?.items ?? []) {
      if (at(item.createdTime) >= at(since)) out.add(Number(item.id));
    }
  }
  return out;
}

/** One page of listed records against their snapshots; a record without one, created since `since`, is "created". */
async function recordPage(
  portalId: string,
  entityType: string,
  records: CrmRecord[],
  since: string,
  readAt: Date,
  meta: Awaited<ReturnType<typeof getFieldMeta>>,
  client: BitrixClient,
  created: Set<number>,
): Promise<number> {
  if (!records.length) return 0;
  // Names first, as live capture does: a change is never visible before its author's name.
  await resolveUserNames(
    portalId,
    records.map((r) => Number(r.MODIFY_BY_ID)),
    client,
  );
  return applySnapshots(portalId, entityType, records, meta, {
    source: "reconciled",
    created,
    readAt,
    reread: recordReader(portalId, entityType, client, meta),
  });
}

export interface SweepReport {
  listed: number;
  recovered: number;
  since: string;
  next: string;
}

/**
 * One sweep of one entity type. Without a watermark yet it starts at the entity's finished backfill (OVERLAP_MS
 * before it began: the backfill's snapshots hold every edit before that); before the backfill is done there is no
 * baseline to reconcile against, and the sweep waits (returns null).
 */
export async function reconcileEntity(
  portalId: string,
  entityType: string,
  client: BitrixClient,
  opts: BackgroundOptions = {},
): Promise<SweepReport | null> {
  const db = getDb();
  const key = { portalId_entityType: { portalId, entityType } };
  let since = (await db.reconcileRun.findUnique({ where: key }))?.since;
  if (!since) {
    const backfill = await db.backfillRun.findUnique({ where: key });
    if (backfill?.status !== "done") return null;
    since = shiftIso(backfill.startedAt.toISOString(), -OVERLAP_MS);
  }
  const meta = await getFieldMeta(portalId, entityType, client);
  const links: FileLinks = new Map(); // each page's files, named after the page (file-names.ts)
  const toRecord = recordAdapter(entityType as EntityKey, meta, links);
  const [method, params] = listParams(entityType, since, "0");
  let readAt = new Date();
  const first = await client.call<unknown>(method, params, { lane: "background", idempotent: true });
  const asBatch = { result: { l0: first.result }, errors: {}, total: {}, next: {} } as unknown as BatchResult;
  let records = itemPages(asBatch, toRecord).result.l0 as CrmRecord[];
  if (!Array.isArray(records)) records = [];
  await attachLeadAddresses(client, entityType, records); // a lead's address is read beside the item (lead-address.ts)
  await nameFiles(client, links, "background");
  links.clear();
  let listed = records.length;
  // one page's records against their snapshots, read at `readAt`; `answer` tells which were created since the watermark
  const record = (answer: BatchResult) =>
    recordPage(portalId, entityType, records, since, readAt, meta, client, itemsCreatedSince(answer, since));
  let recovered = await record(asBatch);
  const stamps = (rs: CrmRecord[]) => rs.map((r) => at(r.DATE_MODIFY)).filter((t) => !Number.isNaN(t));
  let newest = Math.max(-Infinity, ...stamps(records));
  let last = Number(records.at(-1)?.ID ?? 0);
  let done = records.length < PAGE;
  let lastStepAt = Date.now();
  while (!done) {
    if (opts.yieldToCapture) await yieldToCapture(lastStepAt); // a sweep is background work too (lib/jobs/queue.ts)
    const commands = listCommands(entityType, since, last);
    readAt = new Date();
    const raw = await client.batch(commands, { lane: "background", idempotent: true });
    ({ records, last, done } = collect(itemPages(raw, toRecord), entityType, last));
    await attachLeadAddresses(client, entityType, records);
    await nameFiles(client, links, "background");
    links.clear();
    listed += records.length;
    recovered += await record(raw);
    newest = Math.max(newest, ...stamps(records));
    lastStepAt = Date.now();
  }
  // Without date_start ("the composition of the time object may vary"), the newest DATE_MODIFY listed stands in.
  const anchor = first.time?.date_start ?? (Number.isFinite(newest) ? new Date(newest).toISOString() : null);
  const next = anchor ? shiftIso(anchor, -OVERLAP_MS) : since;
  const data = { since: next, lastRunAt: new Date(), listed, recovered };
  await db.reconcileRun.upsert({ where: key, create: { portalId, entityType, ...data }, update: data });
  return { listed, recovered, since, next };
}

/** Job `history.reconcile`: one sweep of every entity type of an active portal whose sweep is switched on. */
export async function runReconcile(
  portalId: string,
  opts: BackgroundOptions = {},
): Promise<Record<string, SweepReport | null> | "skipped"> {
  const select = { status: true, reconcileEveryMin: true };
  const portal = await getDb().portal.findUnique({ where: { id: portalId }, select });
  if (!portal || portal.status !== "active" || portal.reconcileEveryMin <= 0) return "skipped";
  const client = await bitrixFor(portalId);
  const report: Record<string, SweepReport | null> = {};
  for (const entityType of [...LEGACY_ENTITIES, ...(await listPortalItemTypes(client))]) {
    report[entityType] = await reconcileEntity(portalId, entityType, client, opts);
  }
  return report;
}
