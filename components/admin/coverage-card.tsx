import { ReplayButton } from "@/components/admin/replay-button";
import { Badge, Card, Sparkline, Table } from "@/components/ui/ui";
import { loadCoverage, type TypeCoverage } from "@/lib/admin/coverage";
import { entityTypeIdOf } from "@/lib/history/entity-types";
import { smartProcessTitle } from "@/lib/history/type-titles";
import { dict, typeName, type Dict } from "@/lib/i18n";
import styles from "./admin.module.css";

// Coverage per CRM type (lib/admin/coverage.ts): events received, the last one, the last sweep, the changes only a
// sweep found (lost events) with a 14-day chart drawn on the server, and the dead-lettered events with Replay.

const when = (d: Date | null, lang: string) =>
  d ? `${d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" })} UTC` : "—";

/** Each type's name: a smart process by its own title (cached), or "Smart process <entityTypeId>" without one. */
async function labels(portalId: string, types: TypeCoverage[], t: Dict): Promise<Map<string, string>> {
  return new Map(
    await Promise.all(
      types.map(async ({ entityType: key }) => {
        if (!key.startsWith("dynamic_")) return [key, typeName(t, key)] as const;
        const id = entityTypeIdOf(key)!;
        const title = await smartProcessTitle(portalId, id).catch(() => undefined); // the card shows without it
        return [key, title ?? `${typeName(t, key)} ${id}`] as const;
      }),
    ),
  );
}

function row(c: TypeCoverage, label: string, t: Dict, lang: string) {
  return [
    label,
    c.eventsReceived,
    when(c.lastEventAt, lang),
    when(c.lastSweepAt, lang),
    <span key="sweep" className={styles.chartRow}>
      <Badge tone={c.sweepOnly ? "warn" : "ok"}>{c.sweepOnly}</Badge>
      <Sparkline
        values={c.sweepOnlyPerDay}
        label={`${label}: ${t.sweepOnlyPerDay}`}
        tone={c.sweepOnly ? "bad" : "accent"}
      />
    </span>,
    <Badge key="dead" tone={c.dead ? "bad" : "ok"}>
      {c.dead}
    </Badge>,
  ];
}

export async function CoverageCard({ portalId, lang }: { portalId: string; lang: string }) {
  const t = dict(lang);
  const coverage = await loadCoverage(portalId);
  const names = await labels(portalId, coverage.types, t);
  return (
    <Card title={t.coverage} id="coverage">
      <div className={styles.cardHead}>
        <p className={styles.muted}>{t.coverageHint}</p>
        {coverage.dead > 0 ? (
          <p>
            <Badge tone="bad">{coverage.dead}</Badge> {t.deadLettered}
          </p>
        ) : null}
        {coverage.dead > 0 ? <ReplayButton label={t.replay} busyLabel={t.replaying} doneLabel={t.replayed} /> : null}
      </div>
      <Table
        head={[t.coverageType, t.eventsReceived, t.lastEvent, t.lastSweep, t.sweepOnly, t.deadLettered]}
        rows={coverage.types.map((c) => row(c, names.get(c.entityType)!, t, lang))}
      />
    </Card>
  );
}
