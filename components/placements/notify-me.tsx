import type { Dict } from "@/lib/i18n";
import type { HistoryView } from "@/lib/history/view";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { NotifyMe } from "@/components/placements/watch-island";

// The tab's "Notify me…" (watch-island.tsx) given its strings (with the watch rules' words for a condition), and the
// fields this record's history knows — not "record created / deleted", which is no field a person watches.
export function NotifyMeFor({ view, t }: { view: HistoryView; t: Dict }) {
  return (
    <NotifyMe
      entity={view.query.entity}
      typeName={view.record.type}
      text={{ ...t.notifyMe, watch: t.watchRules }}
      fields={view.fields.filter((f) => f.value !== RECORD_FIELD)}
    />
  );
}
