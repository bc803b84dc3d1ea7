import "server-only";
import { z } from "zod";
import type { PortalSession } from "@/lib/auth/session";
import { dict } from "@/lib/i18n";
import { isEntityKey } from "@/lib/history/entity-types";
import { loadLabels, presentChanges, TimeZoneSchema, type HistoryRow } from "@/lib/history/present";
import { recordHeading } from "@/lib/history/value-context";
import { countHistory, historyFacets, queryHistory } from "@/lib/history/query";

// What the CRM tab and the toolbar widget show, read for the session's portal only: one page of a record's changes,
// the filter options (fields and users that occur in its history, with the portal's labels) and the paging cursor.
export const HistoryEntitySchema = z.string().refine(isEntityKey,
  { error: "must be deal, contact, company or lead, or quote, smart_invoice, dynamic_<entityTypeId>" });
export const RecordIdSchema = z.coerce.number({ error: "must be a record id" }).int().positive().max(2 ** 31 - 1);

export const HistoryViewQuerySchema = z.object({
  entity: HistoryEntitySchema,
  id: RecordIdSchema,
  field: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "must be a field code").optional(),
  user: z.coerce.number().int().positive().max(2 ** 31 - 1).optional(),
  cursor: z.string().max(200).optional(),
  /** the user's time zone (the tab's script adds the browser's); times are UTC without it */
  tz: TimeZoneSchema.optional(),
});
export type HistoryViewQuery = z.infer<typeof HistoryViewQuerySchema>;

export interface HistoryView {
  query: HistoryViewQuery;
  /** the record as the header names it: its type in the user's language, its title from our latest snapshot */
  record: { type: string; title: string | null };
  rows: HistoryRow[];
  total: number;
  next: string | null;
  fields: { value: string; label: string }[];
  users: { value: number; label: string }[];
}

export async function loadHistoryView(session: PortalSession, query: HistoryViewQuery, limit = 50): Promise<HistoryView> {
  const q = { entityType: query.entity, entityId: query.id, field: query.field, userId: query.user, cursor: query.cursor, limit };
  const [page, total, facets] = await Promise.all([queryHistory(session.portalId, q), countHistory(session.portalId, q), historyFacets(session.portalId, query.entity, query.id)]);
  const [rows, labels, record] = await Promise.all([
    presentChanges(session.portalId, query.entity, page.items, session.lang, query.tz),
    loadLabels(session.portalId, query.entity, facets.users, dict(session.lang)),
    recordHeading(session.portalId, query.entity, query.id, session.lang),
  ]);
  return {
    query, record, rows, total, next: page.next,
    fields: facets.fields.map((f) => ({ value: f, label: labels.field(f) })).sort((a, b) => a.label.localeCompare(b.label)),
    users: facets.users.map((u) => ({ value: u, label: labels.user(u) })).sort((a, b) => a.label.localeCompare(b.label)),
  };
}
