import "server-only";
import { getDb } from "@/lib/db";
import type { HistoryRow } from "@/components/placements/history-table";

// Turns stored changes into what a CRM user reads: the portal's field label, the user's name, values as text.
interface FieldMeta { title?: string; formLabel?: string; listLabel?: string; isReadOnly?: boolean; items?: { ID: string; VALUE: string }[] }

export function valueText(v: unknown, meta?: FieldMeta): string {
  if (v === null || v === undefined || v === "") return "—";
  if (Array.isArray(v)) return v.map((x) => valueText(x, meta)).join(", ");
  if (typeof v === "object") return String((v as Record<string, unknown>).VALUE ?? (v as Record<string, unknown>).name ?? JSON.stringify(v));
  const item = meta?.items?.find((i) => i.ID === String(v));
  return item ? item.VALUE : String(v);
}

export async function presentChanges(portalId: string, entityType: string, changes: { id: bigint; field: string; oldValue: unknown; newValue: unknown; changedById: number | null; changedAt: Date }[], lang: string): Promise<HistoryRow[]> {
  const db = getDb();
  const [meta, users] = await Promise.all([
    db.crmFieldMeta.findUnique({ where: { portalId_entityType: { portalId, entityType } } }),
    db.userNameCache.findMany({ where: { portalId, userId: { in: [...new Set(changes.map((c) => c.changedById).filter((x): x is number => x !== null))] } } }),
  ]);
  const fields = (meta?.fields ?? {}) as Record<string, FieldMeta>;
  const names = new Map(users.map((u) => [u.userId, u.name]));
  return changes.map((c) => {
    const f = fields[c.field];
    return {
      id: String(c.id), changedAt: c.changedAt.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" }),
      field: f?.formLabel ?? f?.listLabel ?? f?.title ?? c.field, who: c.changedById ? names.get(c.changedById) ?? `#${c.changedById}` : "—",
      oldValue: valueText(c.oldValue, f), newValue: valueText(c.newValue, f), revertible: c.field !== "__record__" && !f?.isReadOnly,
    };
  });
}
