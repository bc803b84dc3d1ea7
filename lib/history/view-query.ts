import { z } from "zod";
import { isEntityKey } from "@/lib/history/entity-types";

// The query of the CRM tab and the toolbar widget (GET /placements/tab, /placements/widget), with no other import:
// proxy.ts checks it before the page renders, so a malformed address is answered 400 (docs/decisions/013), and
// lib/history/view.ts reads the history with it.
export const HistoryEntitySchema = z.string().refine(isEntityKey, {
  error: "must be deal, contact, company or lead, or quote, smart_invoice, dynamic_<entityTypeId>",
});
export const RecordIdSchema = z.coerce
  .number({ error: "must be a record id" })
  .int()
  .positive()
  .max(2 ** 31 - 1);

const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date (YYYY-MM-DD)")
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), "must be a date (YYYY-MM-DD)");

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
/** The user's IANA time zone, as the tab's script reads it from the browser (Intl) and passes it as `tz`. */
export const TimeZoneSchema = z.string().max(64).refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin");

/** The source filter: what a person calls where a change came from, and the FieldChange.source values it covers. */
export const SOURCES = {
  user: ["event", "backfill"],
  revert: ["revert"],
  reconciled: ["reconciled"],
  stagehistory: ["stagehistory"],
} as const;
export type SourceFilter = keyof typeof SOURCES;

export const HistoryViewQuerySchema = z.object({
  entity: HistoryEntitySchema,
  id: RecordIdSchema,
  field: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "must be a field code")
    .optional(),
  user: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional(),
  cursor: z.string().max(200).optional(),
  /** the period, whole days in UTC: from the start of `from` to the end of `to` */
  from: DaySchema.optional(),
  to: DaySchema.optional(),
  source: z.enum(Object.keys(SOURCES) as [SourceFilter, ...SourceFilter[]]).optional(),
  /** the user's time zone (the tab's script adds the browser's); times are UTC without it */
  tz: TimeZoneSchema.optional(),
  /** set by the revert island's reload: the success message shows whatever the filters hide */
  done: z.literal("revert").optional(),
});
export type HistoryViewQuery = z.infer<typeof HistoryViewQuerySchema>;

/**
 * A placement's query — the first value of each parameter, empty ones dropped (an empty filter is no filter) — or what
 * is wrong with it, the first bad parameter named (e.g. "id must be a record id"). The proxy reads the URL's pairs and
 * the page Next.js's searchParams object: the same rule gives both the same answer.
 */
export function parsePlacementQuery(
  search: Iterable<readonly [string, string | string[] | undefined]>,
): { ok: true; query: HistoryViewQuery } | { ok: false; message: string } {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [k, v] of search) {
    if (seen.has(k)) continue;
    seen.add(k);
    const value = Array.isArray(v) ? v[0] : v;
    if (value) params.set(k, value);
  }
  const parsed = HistoryViewQuerySchema.safeParse(Object.fromEntries(params));
  if (parsed.success) return { ok: true, query: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, message: `${issue.path.join(".")} ${issue.message}` };
}
