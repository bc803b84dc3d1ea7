import { ReplayButton } from "@/components/admin/replay-button";
import { Badge, Card, Sparkline, Table } from "@/components/ui/ui";
import { loadCoverage, type TypeCoverage } from "@/lib/admin/coverage";
import { dict, entityLabels, type Dict } from "@/lib/i18n";
import styles from "./admin.module.css";

// Coverage per CRM type (lib/admin/coverage.ts): events received, the last one, the last sweep, the changes only a
// sweep found (lost events) with a 14-day chart drawn on the server, and the dead-lettered events with Replay.

const when = (d: Date | null, lang: string) =>
  d ? `${d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" })} UTC` : "—";

function label(key: string, t: Dict): string {
  return entityLabels(t)[key] ?? key;
}

function row(c: TypeCoverage, t: Dict, lang: string) {
  return [
    label(c.entityType, t),
    c.eventsReceived,
    when(c.lastEventAt, lang),
    when(c.lastSweepAt, lang),
    <span key="sweep" className={styles.chartRow}>
      <Badge tone={c.sweepOnly ? "warn" : "ok"}>{c.sweepOnly}</Badge>
      <Sparkline values={c.sweepOnlyPerDay} label={`${label(c.entityType, t)}: ${t.sweepOnlyPerDay}`}
        tone={c.sweepOnly ? "bad" : "accent"} />
    </span>,
    <Badge key="dead" tone={c.dead ? "bad" : "ok"}>{c.dead}</Badge>,
  ];
}

export async function CoverageCard({ portalId, lang }: { portalId: string; lang: string }) {
  const t = dict(lang);
  const coverage = await loadCoverage(portalId);
  return (
    <Card title={t.coverage} id="coverage">
      <div className={styles.cardHead}>
        <p className={styles.muted}>{t.coverageHint}</p>
        {coverage.dead > 0 ? (
          <p><Badge tone="bad">{coverage.dead}</Badge> {t.deadLettered}</p>
        ) : null}
        {coverage.dead > 0 ? <ReplayButton label={t.replay} busyLabel={t.replaying} doneLabel={t.replayed} /> : null}
      </div>
      <Table head={[t.coverageType, t.eventsReceived, t.lastEvent, t.lastSweep, t.sweepOnly, t.deadLettered]}
        rows={coverage.types.map((c) => row(c, t, lang))} />
    </Card>
  );
}
