import type { HistoryRow } from "@/lib/history/present";

// Changes made together — one record, one author, one moment (or one merged read, docs/history.md "Merged edits") —
// are one entry of the tab: a person edits a deal's amount and stage and saves once, and reads one change set with
// both fields inside. Rows arrive newest first, ordered by (changedAt, id), so a set's rows are adjacent.
export interface ChangeSet {
  key: string;
  changedAt: string;
  changedAtIso: string;
  who: string;
  mergedFrom: string | null;
  mergedFromIso: string | null;
  /** where the set was learnt: a revert is shown as one */
  source: string;
  rows: HistoryRow[];
}

const keyOf = (r: HistoryRow) => `${r.changedAtIso}|${r.mergedFromIso ?? ""}|${r.who}|${r.source}`;

export function groupChangeSets(rows: HistoryRow[]): ChangeSet[] {
  const sets: ChangeSet[] = [];
  for (const r of rows) {
    const key = keyOf(r);
    const last = sets.at(-1);
    if (last && last.key === key) last.rows.push(r);
    else
      sets.push({
        key,
        changedAt: r.changedAt,
        changedAtIso: r.changedAtIso,
        who: r.who,
        mergedFrom: r.mergedFrom,
        mergedFromIso: r.mergedFromIso,
        source: r.source,
        rows: [r],
      });
  }
  return sets;
}
