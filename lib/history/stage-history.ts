import "server-only";
import { Prisma } from "@prisma/client";
import { BitrixError, bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { loadTracking } from "@/lib/admin/tracking";
import { getDb } from "@/lib/db";
import { entityTypeIdOf } from "@/lib/history/entity-types";
import { portalLacks } from "@/lib/lifecycle/probe";
import { enqueueJob } from "@/lib/jobs/queue";

// Stage moves from before the install: Bitrix24 keeps every stage move of leads, deals, invoices and smart processes
// (b24restdocs api-reference/crm/crm-stage-history-list.md: ID, TYPE_ID 1 creation / 2 intermediate stage / 3 final
// stage / 5 funnel change, OWNER_ID, CREATED_TIME; leads STATUS_ID, deals CATEGORY_ID and STAGE_ID; no author field).
// Once per portal and type, after its first backfill pass, job `history.stagehistory` pages the list (`>ID` keyset,
// order ID ASC, start -1, background lane) and records each move older than that pass as a change of STAGE_ID
// (leads: STATUS_ID; new invoices and smart-process items: stageId, as items.ts keeps them) — the stage before it
// being the owner's previous row — with the row's CREATED_TIME, no author
// and source "stagehistory". What the app captured itself is not recorded twice: a move that a captured change of the
// same record already shows (same stage, at or after the move) is skipped, and so is one recorded by an earlier run.
// The cursor travels in the job's payload: a crashed run repeats its pages, whose moves are then already there.

export const STAGE_HISTORY_JOB = "history.stagehistory";

/** What the list answers (`STATUS_ID` for leads) and the fields the snapshot keeps (items: camelCase, items.ts). */
interface StageType {
  entityTypeId: number;
  listField: string;
  field: string;
  categoryField: string | null;
}
function typeOf(entityType: string): StageType | undefined {
  if (entityType === "lead") {
    return { entityTypeId: 1, listField: "STATUS_ID", field: "STATUS_ID", categoryField: null };
  }
  if (entityType === "deal") {
    return { entityTypeId: 2, listField: "STAGE_ID", field: "STAGE_ID", categoryField: "CATEGORY_ID" };
  }
  // new invoices (31) and smart processes have a stage history; quotes do not (ENTITY_TYPE_NOT_SUPPORTED)
  const entityTypeId = entityType === "quote" ? undefined : entityTypeIdOf(entityType);
  return entityTypeId && entityTypeId > 4
    ? { entityTypeId, listField: "STAGE_ID", field: "stageId", categoryField: "categoryId" }
    : undefined;
}
const PAGE = 50;
/** DATE_MODIFY and CREATED_TIME are whole seconds of one save. */
const SAME_SAVE_MS = 1000;

export interface StageHistoryPayload {
  entityType: string;
  until: string;
  after: number;
}
interface HistoryRow {
  ID: number;
  TYPE_ID: number;
  OWNER_ID: number;
  CREATED_TIME: string;
  stage: string;
  category: string | null;
}

/**
 * After a complete backfill pass, for every type whose pass is done: the job's dedupe key makes it once per portal and
 * type (a smart process added later gets its job when its own first pass completes).
 */
export async function enqueueStageHistory(portalId: string, until = new Date()): Promise<void> {
  const done = await getDb().backfillRun.findMany({
    where: { portalId, status: "done" },
    select: { entityType: true },
  });
  const types = new Set(["lead", "deal", ...done.map((r) => r.entityType)].filter((t) => typeOf(t)));
  for (const entityType of types) {
    // ISO 8601 in whole seconds with an offset, as Bitrix24 writes CREATED_TIME (crm-stage-history-list.md)
    const payload: StageHistoryPayload = {
      entityType,
      until: until.toISOString().replace(/\.\d+Z$/, "+00:00"),
      after: 0,
    };
    const dedupeKey = `${STAGE_HISTORY_JOB}:${portalId}:${entityType}`;
    await enqueueJob(STAGE_HISTORY_JOB, { portalId, payload, dedupeKey });
  }
}

function toRow(r: Record<string, unknown>, listField: string): HistoryRow {
  const category = r.CATEGORY_ID === undefined || r.CATEGORY_ID === null ? null : String(r.CATEGORY_ID);
  return {
    ID: Number(r.ID),
    TYPE_ID: Number(r.TYPE_ID),
    OWNER_ID: Number(r.OWNER_ID),
    CREATED_TIME: String(r.CREATED_TIME),
    stage: String(r[listField] ?? ""),
    category,
  };
}

const selectOf = (t: StageType) => [
  "ID",
  "TYPE_ID",
  "OWNER_ID",
  "CREATED_TIME",
  t.listField,
  ...(t.categoryField ? ["CATEGORY_ID"] : []),
];

/** Each owner's row just before `beforeId`: the stage a move on this page left (one batch, ≤ 50 owners a page). */
async function previousRows(
  client: BitrixClient,
  entityType: string,
  owners: Map<number, number>,
): Promise<Map<number, HistoryRow>> {
  const type = typeOf(entityType)!;
  const out = new Map<number, HistoryRow>();
  if (!owners.size) return out;
  const commands = Object.fromEntries(
    [...owners].map(([owner, beforeId]) => [
      `p${owner}`,
      [
        "crm.stagehistory.list",
        {
          entityTypeId: type.entityTypeId,
          order: { ID: "DESC" },
          filter: { OWNER_ID: owner, "<ID": beforeId },
          select: selectOf(type),
          start: -1,
        },
      ],
    ]),
  ) as Record<string, [string, Record<string, unknown>]>;
  const res = await client.batch(commands, { lane: "background", idempotent: true });
  const [failed] = Object.values(res.errors);
  if (failed) throw new BitrixError(failed.error, 0, failed.error_description, "crm.stagehistory.list");
  for (const owner of owners.keys()) {
    const [row] = (res.result[`p${owner}`] as { items?: Record<string, unknown>[] })?.items ?? [];
    if (row) out.set(owner, toRow(row, type.listField));
  }
  return out;
}

interface Known {
  entityId: number;
  field: string;
  newValue: Prisma.JsonValue;
  changedAt: Date;
  source: string;
}

/** The moves of one page not yet in the history, as changes. */
async function changesOf(
  portalId: string,
  entityType: string,
  rows: HistoryRow[],
  until: Date,
  client: BitrixClient,
): Promise<Prisma.FieldChangeCreateManyInput[]> {
  const { field, categoryField } = typeOf(entityType)!;
  const db = getDb();
  const owners = [...new Set(rows.map((r) => r.OWNER_ID))];
  // Only records the app keeps (a record deleted before the install has no tab to show its moves in).
  const kept = new Set(
    (
      await db.crmSnapshot.findMany({
        where: { portalId, entityType, entityId: { in: owners } },
        select: { entityId: true },
      })
    ).map((s) => s.entityId),
  );
  const moves = rows.filter(
    (r) => r.TYPE_ID !== 1 && kept.has(r.OWNER_ID) && Date.parse(r.CREATED_TIME) < until.getTime(),
  );
  if (!moves.length) return [];
  const firstOnPage = new Map<number, number>();
  for (const r of rows) if (!firstOnPage.has(r.OWNER_ID)) firstOnPage.set(r.OWNER_ID, r.ID);
  const needed = new Map([...firstOnPage].filter(([, id]) => moves.some((m) => m.ID === id)));
  const last = await previousRows(client, entityType, needed);
  const known: Known[] = await db.fieldChange.findMany({
    where: {
      portalId,
      entityType,
      entityId: { in: moves.map((m) => m.OWNER_ID) },
      field: { in: [field, categoryField ?? field] },
    },
    select: { entityId: true, field: true, newValue: true, changedAt: true, source: true },
  });
  const has = (owner: number, f: string, value: string, at: Date) =>
    known.some(
      (k) =>
        k.entityId === owner &&
        k.field === f &&
        k.newValue === value &&
        (k.source === "stagehistory"
          ? k.changedAt.getTime() === at.getTime()
          : k.changedAt.getTime() >= at.getTime() - SAME_SAVE_MS),
    );
  const out: Prisma.FieldChangeCreateManyInput[] = [];
  const change = (owner: number, f: string, oldValue: string | null, newValue: string, changedAt: Date) => {
    if (has(owner, f, newValue, changedAt)) return;
    out.push({
      portalId,
      entityType,
      entityId: owner,
      field: f,
      oldValue: oldValue ?? Prisma.JsonNull,
      newValue,
      changedById: null,
      changedAt,
      source: "stagehistory",
    });
  };
  for (const r of rows) {
    const before = last.get(r.OWNER_ID) ?? null;
    last.set(r.OWNER_ID, r);
    if (!moves.includes(r)) continue;
    const at = new Date(r.CREATED_TIME);
    if (before?.stage !== r.stage) change(r.OWNER_ID, field, before?.stage ?? null, r.stage, at);
    if (categoryField && r.category !== null && before && before.category !== r.category) {
      change(r.OWNER_ID, categoryField, before.category, r.category, at);
    }
  }
  return out;
}

/**
 * Job `history.stagehistory`: pages one type's stage history from the payload's cursor for up to `budgetMs`, then
 * queues its own continuation. Returns the moves recorded.
 */
export async function runStageHistory(
  portalId: string,
  payload: StageHistoryPayload,
  budgetMs = 20_000,
): Promise<{ recorded: number; complete: boolean }> {
  const type = typeOf(payload.entityType);
  // a box whose crm module predates the method (the probe found it missing) has no stage history to give
  if (!type || (await portalLacks(portalId, "crm.stagehistory.list"))) return { recorded: 0, complete: true };
  const started = Date.now();
  const until = new Date(payload.until);
  const client = await bitrixFor(portalId);
  let after = payload.after;
  let recorded = 0;
  const tracked = await loadTracking(portalId); // moves of a type or stage field the admin left out are not kept
  for (;;) {
    const filter = { ">ID": after, "<CREATED_TIME": payload.until };
    const res = await client.call<{ items?: Record<string, unknown>[] }>(
      "crm.stagehistory.list",
      {
        entityTypeId: type.entityTypeId,
        order: { ID: "ASC" },
        filter,
        select: selectOf(type),
        start: -1,
      },
      { lane: "background", idempotent: true },
    );
    const items = res.result?.items;
    if (!Array.isArray(items)) {
      throw new BitrixError("MALFORMED_RESPONSE", 200, "no items in the answer", "crm.stagehistory.list", "malformed");
    }
    const rows = items.map((r) => toRow(r, type.listField));
    const changes = (await changesOf(portalId, payload.entityType, rows, until, client)).filter((c) =>
      tracked(payload.entityType, c.field),
    );
    if (changes.length) await getDb().fieldChange.createMany({ data: changes });
    recorded += changes.length;
    if (rows.length < PAGE) return { recorded, complete: true };
    after = rows.at(-1)!.ID;
    if (Date.now() - started > budgetMs) {
      await enqueueJob(STAGE_HISTORY_JOB, { portalId, payload: { ...payload, after } });
      return { recorded, complete: false };
    }
  }
}
