import type { Dict } from "@/lib/i18n";
import type { HistoryView } from "@/lib/history/view";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { NotifyMe, type NotifyMeText } from "@/components/placements/watch-island";

// The tab's "Notify me…" (watch-island.tsx) given only the strings it shows, and the fields this record's history
// knows — not "record created / deleted", which is no field a person watches.
const KEYS = [
  "notifyMe",
  "notifyMeHint",
  "notifyMeFields",
  "notifyMeOnlyMine",
  "notifyMeAdd",
  "notifyMeAdded",
  "notifyMeNone",
  "notifyMeYours",
  "notifyMeAnyField",
  "watchCondition",
  "watchChanged",
  "watchCleared",
  "watchDelete",
  "watchAdding",
] as const;

export function NotifyMeFor({ view, t }: { view: HistoryView; t: Dict }) {
  const text: NotifyMeText = Object.fromEntries(KEYS.map((k) => [k, t[k]])) as Pick<Dict, (typeof KEYS)[number]>;
  return (
    <NotifyMe
      entity={view.query.entity}
      typeName={view.record.type}
      text={text}
      fields={view.fields.filter((f) => f.value !== RECORD_FIELD)}
    />
  );
}
