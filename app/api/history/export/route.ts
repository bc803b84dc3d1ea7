import { z } from "zod";
import { requirePortalSession } from "@/lib/auth/session";
import { attachHistoryCsv } from "@/lib/history/export";
import { TimeZoneSchema } from "@/lib/history/present";
import { HistoryEntitySchema, RecordIdSchema } from "@/lib/history/view";
import { route } from "@/lib/http/route";

const BodySchema = z.object({
  entity: HistoryEntitySchema,
  id: RecordIdSchema,
  /**
   * a custom file field of the record to put the CSV into, instead of the timeline: a lead's, deal's, contact's or
   * company's by its UF_CRM_… key, a quote's, invoice's or smart-process item's by its crm.item name (ufCrm…)
   */
  field: z
    .string()
    .regex(/^(?:UF_[A-Z0-9_]{1,60}|ufCrm[A-Za-z0-9_]{1,60})$/, "must be a custom file field (UF_… or ufCrm…)")
    .optional(),
  /** the user's time zone for the file's times (the tab's script sends the browser's) */
  tz: TimeZoneSchema.optional(),
});

// POST /api/history/export — "Attach history as CSV" to the record's timeline or one of its file fields: a record the
// user may read, written with the user's own token (lib/history/export.ts).
export const POST = route({ auth: requirePortalSession, body: BodySchema }, async ({ session: s, body }) =>
  Response.json(await attachHistoryCsv(s, body.entity, body.id, body.field, body.tz)),
);
