import { Table } from "@/components/ui/ui";
import type { Dict } from "@/lib/i18n";
import { RevertButton } from "@/components/placements/history-actions";

export interface HistoryRow { id: string; changedAt: string; field: string; who: string; oldValue: string; newValue: string; revertible: boolean }

export function HistoryTable({ rows, t, canRevert = false }: { rows: HistoryRow[]; t: Dict; canRevert?: boolean }) {
  if (!rows.length) return <p>{t.noChanges}</p>;
  const head = [t.when, t.field, t.who, t.oldValue, t.newValue, ...(canRevert ? [""] : [])];
  return <Table caption={t.history} head={head} rows={rows.map((r) => [r.changedAt, r.field, r.who, r.oldValue, r.newValue,
    ...(canRevert && r.revertible ? [<RevertButton key={r.id} changeId={r.id} label={t.revert} confirmText={t.revertConfirm} />] : canRevert ? [""] : [])])} />;
}
