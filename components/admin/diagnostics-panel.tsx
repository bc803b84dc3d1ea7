import { DiagnosticsButton, RerunButton } from "@/components/admin/admin-actions";
import styles from "@/components/admin/admin.module.css";
import { BindingsCard } from "@/components/admin/bindings-card";
import { CoverageCard } from "@/components/admin/coverage-card";
import { LiveProgress } from "@/components/admin/live-progress";
import { RestLogCard } from "@/components/admin/rest-log";
import { Badge, Card, Progress, Sparkline, Table, Tile } from "@/components/ui/ui";
import type { AdminOverview } from "@/lib/admin/overview";
import type { loadProgress } from "@/lib/admin/progress";
import { entityLabels, type Dict, type TextKey } from "@/lib/i18n";
import { eventHandlerUrl } from "@/lib/lifecycle/registry";

// The admin page's developer console, one click below its plain status and settings (issue #17 item 5): a native
// <details> rendered on the server, so it opens with the keyboard and without scripts; the status line's "Fix it"
// opens it (fix-link.tsx). Inside: bindings and Rebind, coverage and Replay, queues and limits, scopes, capabilities,
// method confirmations, Run diagnostics, the REST log and the install log.
const fmt = (d: Date | null, lang: string) =>
  d ? d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" }) + " UTC" : "—";
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const CALL_STATUS: Record<string, { tone: "ok" | "warn" | "bad" | "muted"; text: TextKey }> = {
  pending: { tone: "warn", text: "statusPending" },
  done: { tone: "ok", text: "statusDone" },
  denied: { tone: "bad", text: "statusDenied" },
  failed: { tone: "bad", text: "statusFailed" },
  expired: { tone: "muted", text: "statusExpired" },
};

interface Props {
  o: AdminOverview;
  progress: Awaited<ReturnType<typeof loadProgress>>;
  portalId: string;
  lang: "en" | "ru";
  t: Dict;
}

export function DiagnosticsPanel({ o, progress, portalId, lang, t }: Props) {
  const healthy = o.bindings.filter((b) => b.actual).length;
  return (
    <details className={styles.diagnostics} id="diagnostics-panel">
      <summary className={styles.summary}>{t.diagnosticsTitle}</summary>
      <p className={styles.muted}>{t.diagnosticsHint}</p>
      <section aria-label={t.overview} className={styles.tiles}>
        <Tile
          label={t.bindingsHealthy}
          value={`${healthy} / ${o.bindings.length}`}
          tone={healthy === o.bindings.length ? "ok" : "bad"}
          href="#bindings"
        />
        <Tile label={t.eventsLastHour} value={sum(o.eventsProcessed)} href="#limits">
          <Sparkline values={o.eventsProcessed} label={t.eventsPerMinute} />
        </Tile>
        <Tile
          label={t.waitingNow}
          value={progress.queue.waiting}
          tone={progress.queue.waiting ? "warn" : "ok"}
          href="#work"
        />
        <Tile
          label={t.rejectedLastHour}
          value={sum(o.authFailures)}
          tone={sum(o.authFailures) ? "bad" : "ok"}
          href="#auth-failures"
        >
          <Sparkline values={o.authFailures} label={t.authFailures} tone="bad" />
        </Tile>
      </section>
      <BindingsCard bindings={o.bindings} t={t} handler={eventHandlerUrl()} />
      <CoverageCard portalId={portalId} lang={lang} />
      <Queues o={o} progress={progress} lang={lang} t={t} />
      <Card title={t.capabilities} id="capabilities">
        <p className={styles.muted}>
          {t.checkedAt}: {fmt(o.probedAt, lang)}
        </p>
        <Table
          head={[t.item, t.status, t.disables]}
          rows={o.capabilities.map((c) => [
            <code key={c.item}>{c.item}</code>,
            <Badge key={c.item} tone={c.ok ? "ok" : c.required ? "bad" : "warn"}>
              {c.ok ? "✓" : t.missing}
            </Badge>,
            c.ok ? "" : c.disables,
          ])}
        />
      </Card>
      <Card title={t.confirmations} id="confirmations">
        {o.pending.length === 0 ? (
          <p className={styles.muted}>{t.noPending}</p>
        ) : (
          <Table
            head={[t.item, t.status, t.when, ""]}
            rows={o.pending.map((p) => {
              const st = CALL_STATUS[p.status] ?? { tone: "muted" as const, text: "statusFailed" as const };
              return [
                <code key={p.id}>{p.method}</code>,
                <Badge key={p.id} tone={st.tone}>
                  {t[st.text]}
                </Badge>,
                fmt(p.createdAt, lang),
                p.status === "done" ? "" : <RerunButton key={p.id} id={p.id} label={t.rerun} />,
              ];
            })}
          />
        )}
      </Card>
      <Card title={t.diagnostics} id="diagnostics">
        <DiagnosticsButton label={t.diagnostics} busyLabel={t.diagnosing} reportTitle={t.report} />
      </Card>
      <RestLogCard lang={lang} />
      <Card title={t.audit} id="audit">
        <Table
          head={[t.when, t.action]}
          rows={o.audit.map((a) => [
            fmt(a.createdAt, lang),
            <code key={a.createdAt.toISOString() + a.action}>{a.action}</code>,
          ])}
        />
      </Card>
    </details>
  );
}

/** Work in progress, the REST budget, the offline queue, rejected requests and scopes: the grid of small cards. */
function Queues({ o, progress, lang, t }: Omit<Props, "portalId">) {
  return (
    <div className={styles.grid}>
      <Card title={t.work} id="work">
        <LiveProgress initial={progress} text={{ ...t.liveProgress, entities: entityLabels(t) }} />
      </Card>
      <Card title={t.rateLimit} id="limits">
        <ChartRow values={o.restCalls} label={t.restCalls} />
        <ChartRow values={o.limitHits} label={t.limitHits} tone="bad" />
        <ChartRow values={o.eventsProcessed} label={t.eventsPerMinute} />
        <Progress value={Math.round(o.bucketLevel)} max={o.portal.burst} label={`${t.budget} (${o.portal.drain}/s)`} />
      </Card>
      <Card title={t.offline} id="offline">
        <p>
          {t.queueLag}: {fmt(o.offline.inboxOldestPendingAt ?? o.offline.oldestOpenClaimAt, lang)}
        </p>
        <p>
          {t.errors}: {o.offline.batchesWithErrors || t.none}
        </p>
      </Card>
      <Card title={t.authFailures} id="auth-failures">
        <div className={styles.chartRow}>
          <Sparkline values={o.authFailures} label={t.authFailures} tone="bad" />
          <span>
            {sum(o.authFailures)} · {t.lastHour}
          </span>
        </div>
      </Card>
      <Card title={t.scopes} id="scopes">
        <Table
          head={[t.item, t.status]}
          rows={o.scopes.map((s) => [
            `${s.scope} (${s.required ? t.required : t.optional})`,
            <Badge key={s.scope} tone={s.granted ? "ok" : s.required ? "bad" : "warn"}>
              {s.granted ? t.granted : t.missing}
            </Badge>,
          ])}
        />
      </Card>
    </div>
  );
}

/** A per-minute series as a small chart with its label and the hour's total. */
function ChartRow({ values, label, tone }: { values: number[]; label: string; tone?: "bad" }) {
  return (
    <div className={styles.chartRow}>
      <Sparkline values={values} label={label} tone={tone} />
      <span>
        {label}: {sum(values)}
      </span>
    </div>
  );
}
