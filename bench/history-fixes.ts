// Candidate fixes for lib/history, measured beside the code they would replace (bench/history-query.ts) and never
// applied to lib/ from here. Each one returns exactly what the original returns (the bench checks that).
import { getDb } from "@/lib/db";
import { loadLabels, presentChanges, valueText, type HistoryRow } from "@/lib/history/present";
import { countHistory, encodeCursor, type HistoryQuery } from "@/lib/history/query";
import { dict, type Dict } from "@/lib/i18n";

function decodeCursor(cursor: string | undefined): { changedAt: Date; id: bigint } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const changedAt = new Date(at ?? "");
  return Number.isNaN(changedAt.getTime()) || !/^\d+$/.test(id ?? "") ? null : { changedAt, id: BigInt(id!) };
}

/**
 * queryHistory with the keyset condition also as a range: `changedAt <= cursor AND (changedAt < cursor OR id < …)`.
 * The OR alone is only a Filter on the index scan, so page N reads (and throws away) every newer row of the record;
 * with the redundant bound the scan starts at the cursor (an Index Cond), and page N costs what page 1 costs.
 */
export async function queryHistoryBounded(portalId: string, q: HistoryQuery) {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
  const after = decodeCursor(q.cursor);
  const rows = await getDb().fieldChange.findMany({
    where: {
      portalId, entityType: q.entityType, entityId: q.entityId,
      ...(q.field ? { field: q.field } : {}),
      ...(q.userId ? { changedById: q.userId } : {}),
      ...(after ? { changedAt: { lte: after.changedAt }, OR: [{ changedAt: { lt: after.changedAt } }, { changedAt: after.changedAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ changedAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next: rows.length > limit && last ? encodeCursor(last.changedAt, last.id) : null };
}

// Date#toLocaleString with options builds a new Intl.DateTimeFormat on every call (~0.2 ms): one per language, reused.
const FORMATS = new Map<string, Intl.DateTimeFormat>();
function formatUtc(d: Date, lang: string): string {
  const locale = lang === "ru" ? "ru-RU" : "en-GB";
  let f = FORMATS.get(locale);
  if (!f) FORMATS.set(locale, (f = new Intl.DateTimeFormat(locale, { timeZone: "UTC", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" })));
  return f.format(d);
}

const RECORD_FIELD = "__record__"; // the stored pseudo-field of created/deleted records (lib/history)
const RECORD_STATES: Record<string, keyof Dict> = { created: "created", deleted: "deleted", exists: "exists" };
type Change = Parameters<typeof presentChanges>[2][number];

/** presentChanges with formatUtc instead of toLocaleString; everything else as lib/history/present.ts. */
export async function presentChangesCachedFormat(portalId: string, entityType: string, changes: Change[], lang: string): Promise<HistoryRow[]> {
  const t = dict(lang);
  const labels = await loadLabels(portalId, entityType, changes.map((c) => c.changedById), t);
  const text = (field: string, v: unknown) => (field === RECORD_FIELD && typeof v === "string" && RECORD_STATES[v] ? t[RECORD_STATES[v]] : valueText(v, labels.meta(field)));
  return changes.map((c) => ({
    id: String(c.id), changedAt: formatUtc(c.changedAt, lang), changedAtIso: c.changedAt.toISOString(),
    field: labels.field(c.field), fieldCode: c.field, who: labels.user(c.changedById),
    oldValue: text(c.field, c.oldValue), newValue: text(c.field, c.newValue), revertible: c.field !== RECORD_FIELD && !labels.meta(c.field)?.isReadOnly,
  }));
}

/**
 * historyFacets by skip scan: the distinct fields (users) of one record read as one index probe per distinct value
 * (a recursive CTE over the existing (…, field) and (…, changedById) indexes) instead of grouping every change.
 */
export async function historyFacetsSkipScan(portalId: string, entityType: string, entityId: number): Promise<{ fields: string[]; users: number[] }> {
  const db = getDb();
  const [fields, users] = await Promise.all([
    db.$queryRaw<{ v: string }[]>`WITH RECURSIVE f(v) AS (
        (SELECT field FROM "FieldChange" WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} ORDER BY field LIMIT 1)
        UNION ALL
        SELECT (SELECT c.field FROM "FieldChange" c WHERE c."portalId" = ${portalId} AND c."entityType" = ${entityType} AND c."entityId" = ${entityId} AND c.field > f.v ORDER BY c.field LIMIT 1)
        FROM f WHERE f.v IS NOT NULL)
      SELECT v FROM f WHERE v IS NOT NULL`,
    db.$queryRaw<{ v: number }[]>`WITH RECURSIVE u(v) AS (
        (SELECT "changedById" FROM "FieldChange" WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} AND "changedById" IS NOT NULL ORDER BY "changedById" LIMIT 1)
        UNION ALL
        SELECT (SELECT c."changedById" FROM "FieldChange" c WHERE c."portalId" = ${portalId} AND c."entityType" = ${entityType} AND c."entityId" = ${entityId} AND c."changedById" > u.v ORDER BY c."changedById" LIMIT 1)
        FROM u WHERE u.v IS NOT NULL)
      SELECT v FROM u WHERE v IS NOT NULL`,
  ]);
  return { fields: fields.map((f) => f.v), users: users.map((u) => u.v) };
}

/** lib/history/view.ts loadHistoryView's reads (first page), with the two fixes above. */
export async function historyViewFixed(portalId: string, entityType: string, entityId: number, lang: "en" | "ru") {
  const q = { entityType, entityId, limit: 50 };
  const [page, total, facets] = await Promise.all([queryHistoryBounded(portalId, q), countHistory(portalId, q), historyFacetsSkipScan(portalId, entityType, entityId)]);
  const [rows, labels] = await Promise.all([presentChangesCachedFormat(portalId, entityType, page.items, lang), loadLabels(portalId, entityType, facets.users, dict(lang))]);
  return { rows, total, next: page.next, fields: facets.fields.map((f) => labels.field(f)), users: facets.users.map((u) => labels.user(u)) };
}
