import "server-only";
import type { PortalSession } from "@/lib/auth/session";
import { dict } from "@/lib/i18n";
import { loadLabels, presentChanges, type HistoryRow } from "@/lib/history/present";
import { SOURCES, type HistoryViewQuery } from "@/lib/history/view-query";
import { recordHeading } from "@/lib/history/value-context";
import { countHistory, historyFacets, queryHistory } from "@/lib/history/query";
import { editInFlight, revertedChanges } from "@/lib/history/feedback";

// What the CRM tab and the toolbar widget show, read for the session's portal only: one page of a record's changes,
// the filter options (fields and users that occur in its history, with the portal's labels) and the paging cursor.
export {
  HistoryEntitySchema,
  HistoryViewQuerySchema,
  RecordIdSchema,
  SOURCES,
  type HistoryViewQuery,
  type SourceFilter,
} from "@/lib/history/view-query";

export interface HistoryView {
  query: HistoryViewQuery;
  /** the record as the header names it: its type in the user's language, its title from our latest snapshot */
  record: { type: string; title: string | null };
  rows: HistoryRow[];
  total: number;
  next: string | null;
  /** an update of the record still waits in the inbox: "updating…" rather than "no changes yet" */
  updating: boolean;
  fields: { value: string; label: string }[];
  users: { value: number; label: string }[];
}

export async function loadHistoryView(
  session: PortalSession,
  query: HistoryViewQuery,
  limit = 50,
): Promise<HistoryView> {
  const day = (d: string | undefined, plus = 0) =>
    d ? new Date(Date.parse(`${d}T00:00:00Z`) + plus * 86_400_000) : undefined;
  const q = {
    entityType: query.entity,
    entityId: query.id,
    field: query.field,
    userId: query.user,
    cursor: query.cursor,
    limit,
    from: day(query.from),
    to: day(query.to, 1),
    sources: query.source ? [...SOURCES[query.source]] : undefined,
  };
  // two rounds of reads: what needs only the query, then what needs the page's changes and people
  const [page, total, facets, record, updating] = await Promise.all([
    queryHistory(session.portalId, q),
    countHistory(session.portalId, q),
    historyFacets(session.portalId, query.entity, query.id),
    recordHeading(session.portalId, query.entity, query.id, session.lang),
    editInFlight(session.portalId, query.entity, query.id),
  ]);
  const [presented, labels, reverted] = await Promise.all([
    presentChanges(session.portalId, query.entity, page.items, session.lang, query.tz),
    loadLabels(session.portalId, query.entity, facets.users, dict(session.lang)),
    revertedChanges(session.portalId, query.entity, query.id, page.items),
  ]);
  const rows = presented.map((r) => (reverted.has(r.id) ? { ...r, reverted: true, revertible: false } : r));
  return {
    query,
    record,
    rows,
    total,
    next: page.next,
    updating,
    fields: facets.fields
      .map((f) => ({ value: f, label: labels.field(f) }))
      .sort((a, b) => a.label.localeCompare(b.label)),
    users: facets.users
      .map((u) => ({ value: u, label: labels.user(u) }))
      .sort((a, b) => a.label.localeCompare(b.label)),
  };
}
