import "server-only";
import { z } from "zod";
import { getDb } from "@/lib/db";
import { RETENTION_YEARS } from "@/lib/history/retention";
import { parseTracking, TrackingInputSchema, type Tracking } from "@/lib/admin/tracking";

// The portal's own settings an admin changes on the admin page: how long change history is kept (forever, or 1, 2 or
// 5 years — lib/history/retention.ts) and how often the reconciliation sweep looks for missed events (minutes,
// 0 = off — lib/history/reconcile.ts) and who may revert a change (anyone Bitrix24 lets edit the record, or portal
// administrators only — app/api/history/revert), and which CRM types and fields are tracked (lib/admin/tracking.ts),
// and the watch rules' notification settings (docs/watch-rules.md "Notification settings": pause, values shown, what a
// new portal rule does) — saving those bumps watchRulesVersion so every process's capture path reads them at once.
// Unknown keys and out-of-range values are refused with the field named.
export const SettingsInputSchema = z.strictObject({
  retentionYears: z
    .union([z.null(), z.literal(RETENTION_YEARS[0]), z.literal(RETENTION_YEARS[1]), z.literal(RETENTION_YEARS[2])])
    .optional(),
  reconcileEveryMin: z.number().int().min(0).max(1440).optional(),
  revertPolicy: z.enum(["editors", "admins"]).optional(),
  untrackedTypes: TrackingInputSchema.untrackedTypes.optional(),
  untrackedFields: TrackingInputSchema.untrackedFields.optional(),
  watchPaused: z.boolean().optional(),
  watchShowValues: z.boolean().optional(),
  watchNotifyResponsibleDefault: z.boolean().optional(),
});
export type SettingsInput = z.infer<typeof SettingsInputSchema>;
const SELECT = {
  retentionYears: true,
  reconcileEveryMin: true,
  revertPolicy: true,
  untrackedTypes: true,
  untrackedFields: true,
  watchPaused: true,
  watchShowValues: true,
  watchNotifyResponsibleDefault: true,
} as const;
export interface PortalSettings extends Tracking {
  retentionYears: number | null;
  reconcileEveryMin: number;
  revertPolicy: string;
  watchPaused: boolean;
  watchShowValues: boolean;
  watchNotifyResponsibleDefault: boolean;
}
const WATCH_KEYS = ["watchPaused", "watchShowValues", "watchNotifyResponsibleDefault"] as const;

export async function loadSettings(portalId: string): Promise<PortalSettings> {
  const row = await getDb().portal.findUniqueOrThrow({ where: { id: portalId }, select: SELECT });
  return { ...row, ...parseTracking(row) };
}

export async function saveSettings(portalId: string, input: SettingsInput): Promise<PortalSettings> {
  const watch = WATCH_KEYS.some((k) => input[k] !== undefined);
  const row = await getDb().portal.update({
    where: { id: portalId },
    select: SELECT,
    data: { ...input, ...(watch ? { watchRulesVersion: { increment: 1 } } : {}) },
  });
  return { ...row, ...parseTracking(row) };
}
