import "server-only";
import type { Prisma } from "@prisma/client";
import { z } from "zod";
import { getDb } from "@/lib/db";
import { entityTypeIdOf, isEntityKey, isItemType, type EntityKey, LEGACY_TYPES } from "@/lib/history/entity-types";
import { presentChanges, type HistoryRow } from "@/lib/history/present";
import { encodeCursor } from "@/lib/history/query";
import { changeWhere, isValidCursor } from "@/lib/history/search";
import { HistoryEntitySchema, RecordIdSchema } from "@/lib/history/view";
import { AppError } from "@/lib/http-errors";

// The admins' Audit page (docs/history.md "Audit page"): every change of the portal, searched by person, field, type,
// record, period (UTC days) and source, newest first, keyset-paginated on (changedAt, id) like the tab and the API.
// Each filter has an index that starts with (portalId, <filter>) and is ordered by (changedAt, id), so a page is read
// from the front of one index whichever filter is set (prisma/schema.prisma; figures in docs/performance.md).
export const AUDIT_SOURCES = ["event", "revert", "backfill", "reconciled", "stagehistory"] as const;
export const AUDIT_PAGE = 50;

const Day = z.iso.date({ error: "must be a day (YYYY-MM-DD)" });
export const AuditQuerySchema = z.object({
  person: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional(),
  field: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "must be a field code")
    .optional(),
  type: HistoryEntitySchema.optional(),
  record: RecordIdSchema.optional(),
  from: Day.optional(),
  to: Day.optional(),
  source: z.enum(AUDIT_SOURCES).optional(),
  cursor: z.string().max(200).refine(isValidCursor, "is not a cursor this page handed out").optional(),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

/** The form's GET parameters: empty inputs are "no filter"; a bad value is a 400 naming the parameter. */
export function parseAuditQuery(params: Record<string, string | string[] | undefined>): AuditQuery {
  const given = Object.entries(params).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "");
  const parsed = AuditQuerySchema.safeParse(Object.fromEntries(given));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError(400, "invalid_request", `${issue.path.join(".")}: ${issue.message}`);
}

const startOfDay = (day: string) => new Date(`${day}T00:00:00.000Z`);
const afterDay = (day: string) => new Date(startOfDay(day).getTime() + 86_400_000);

/**
 * The CRM types this portal has changes of, read as a loose index scan of (portalId, entityType, …): one index probe
 * a type, however many changes there are.
 */
async function typesWithHistory(portalId: string): Promise<string[]> {
  const rows = await getDb().$queryRaw<{ entityType: string }[]>`
    WITH RECURSIVE t AS (
      (SELECT "entityType" FROM "FieldChange" WHERE "portalId" = ${portalId} ORDER BY "entityType" LIMIT 1)
      UNION ALL
      SELECT (SELECT f."entityType" FROM "FieldChange" f WHERE f."portalId" = ${portalId}
              AND f."entityType" > t."entityType" ORDER BY f."entityType" LIMIT 1)
      FROM t WHERE t."entityType" IS NOT NULL)
    SELECT "entityType" FROM t WHERE "entityType" IS NOT NULL`;
  return rows.map((r) => r.entityType);
}

/** The types the type filter offers: the fixed ones, then every smart process the portal has changes of. */
export async function auditTypes(portalId: string): Promise<EntityKey[]> {
  const fixed: EntityKey[] = [...(Object.keys(LEGACY_TYPES) as EntityKey[]), "quote", "smart_invoice"];
  const found = (await typesWithHistory(portalId)).filter((k): k is EntityKey => isEntityKey(k) && !fixed.includes(k));
  return [...fixed, ...found];
}

function whereOf(portalId: string, q: AuditQuery): Prisma.FieldChangeWhereInput {
  return changeWhere(portalId, {
    entityType: q.type,
    entityId: q.record,
    field: q.field,
    userId: q.person,
    source: q.source,
    cursor: q.cursor,
    since: q.from ? startOfDay(q.from) : undefined,
    until: q.to ? afterDay(q.to) : undefined,
  });
}

const NEWEST_FIRST: Prisma.FieldChangeOrderByWithRelationInput[] = [{ changedAt: "desc" }, { id: "desc" }];
const newer = (a: { changedAt: Date; id: bigint }, b: { changedAt: Date; id: bigint }) =>
  b.changedAt.getTime() - a.changedAt.getTime() || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

/**
 * The first `take` rows of `q`. A record id without a type reads each of the portal's types on its record index,
 * newest first, and merges them: one `entityType IN (…)` query would read every change of those records and sort
 * them (bench audit: p99 518 ms on 10 000 000 changes, for records with thousands of changes).
 */
async function firstRows(portalId: string, q: AuditQuery, take: number) {
  const db = getDb();
  const read = (query: AuditQuery) =>
    db.fieldChange.findMany({ where: whereOf(portalId, query), orderBy: NEWEST_FIRST, take });
  if (q.record === undefined || q.type) return read(q);
  const types = (await typesWithHistory(portalId)).filter(isEntityKey);
  const perType = await Promise.all(types.map((type) => read({ ...q, type })));
  return perType.flat().sort(newer).slice(0, take);
}

/** One page of the portal's changes matching `q`, and the cursor of the next (older) page. */
export async function searchAudit(portalId: string, q: AuditQuery, limit = AUDIT_PAGE) {
  const rows = await firstRows(portalId, q, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next: rows.length > limit && last ? encodeCursor(last.changedAt, last.id) : null };
}

/** How many changes `q` finds (its cursor ignored): the export's progress estimate (lib/history/audit-export.ts). */
export async function countAudit(portalId: string, q: AuditQuery): Promise<number> {
  return getDb().fieldChange.count({ where: whereOf(portalId, { ...q, cursor: undefined }) });
}

/**
 * Where the record's card is in the portal, for BX24.openPath / b24jssdk slider.openPath: the legacy four at
 * /crm/<type>/details/<id>/, every crm.item type (quotes 7, invoices 31, smart processes) at
 * /crm/type/<entityTypeId>/details/<id>/ — openPath takes only paths under /crm/(deal|lead|contact|company|type)/
 * (docs/history.md "Audit page").
 */
export function recordPath(entityType: string, id: number): string | null {
  if (!isEntityKey(entityType)) return null;
  if (!isItemType(entityType)) return `/crm/${entityType}/details/${id}/`;
  return `/crm/type/${entityTypeIdOf(entityType)}/details/${id}/`;
}

export interface AuditRow extends HistoryRow {
  entityType: string;
  entityId: number;
  source: string;
  path: string | null;
}

/** The page's rows as the tab shows them (labels, names, values), each type's labels read once. */
export async function presentAudit(
  portalId: string,
  items: Awaited<ReturnType<typeof searchAudit>>["items"],
  lang: string,
  timeZone?: string,
): Promise<AuditRow[]> {
  const byType = new Map<string, typeof items>();
  for (const c of items) byType.set(c.entityType, [...(byType.get(c.entityType) ?? []), c]);
  const shown = new Map<string, HistoryRow>();
  for (const [type, changes] of byType) {
    for (const row of await presentChanges(portalId, type, changes, lang, timeZone)) shown.set(row.id, row);
  }
  return items.map((c) => ({
    ...shown.get(String(c.id))!,
    entityType: c.entityType,
    entityId: c.entityId,
    source: c.source,
    path: recordPath(c.entityType, c.entityId),
  }));
}

/** The people the person filter offers: the portal's users whose names we know, by name. */
export async function auditPeople(portalId: string): Promise<{ id: number; name: string }[]> {
  const users = await getDb().userNameCache.findMany({ where: { portalId }, orderBy: { name: "asc" }, take: 1000 });
  return users.map((u) => ({ id: u.userId, name: u.name }));
}

export interface AuditView {
  query: AuditQuery;
  rows: AuditRow[];
  next: string | null;
  people: { id: number; name: string }[];
  types: EntityKey[];
}

/** What the Audit page shows for an admin of `portalId` (the caller checks the admin): results, filter options. */
export async function loadAuditView(portalId: string, query: AuditQuery, lang: string): Promise<AuditView> {
  const [page, people, types] = await Promise.all([
    searchAudit(portalId, query),
    auditPeople(portalId),
    auditTypes(portalId),
  ]);
  return { query, rows: await presentAudit(portalId, page.items, lang), next: page.next, people, types };
}
