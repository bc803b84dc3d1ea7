import { Table } from "@/components/ui/ui";
import type { Dict } from "@/lib/i18n";

export interface HistoryRow { id: string; changedAt: string; field: string; who: string; oldValue: string; newValue: string }

export function HistoryTable({ rows, t }: { rows: HistoryRow[]; t: Dict }) {
  if (!rows.length) return <p>{t.noChanges}</p>;
  return <Table caption={t.history} head={[t.when, t.field, t.who, t.oldValue, t.newValue]} rows={rows.map((r) => [r.changedAt, r.field, r.who, r.oldValue, r.newValue])} />;
}
