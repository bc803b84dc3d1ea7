import { DiagnosticsButton, RebindButton, RerunButton } from "@/components/admin/admin-actions";
import styles from "@/components/admin/admin.module.css";
import { FrameSetup } from "@/components/frame/frame-setup";
import { Badge, Card, Progress, Sparkline, Table } from "@/components/ui/ui";
import { loadAdminOverview } from "@/lib/admin/overview";
import { getPageSession } from "@/lib/auth/page-session";
import { dict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

const fmt = (d: Date | null, lang: string) => (d ? d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" }) + " UTC" : "—");

export default async function AdminPage({ searchParams }: { searchParams: Promise<{ st?: string }> }) {
  const auth = await getPageSession((await searchParams).st);
  if (!auth) return <main className={styles.page}><p role="alert">{dict("en").sessionExpired}</p></main>;
  const { session, token } = auth;
  const t = dict(session.lang);
  if (!session.isAdmin) {
    return (
      <main className={styles.page}>
        <FrameSetup title={t.appTitle} token={token} />
        <h1 className={styles.title}>{t.appTitle}</h1>
        <p role="alert" className={styles.notice}>{t.denied}</p>
      </main>
    );
  }
  const o = await loadAdminOverview(session.portalId);
  const healthy = o.bindings.filter((b) => b.actual).length;
  return (
    <main className={styles.page}>
      <FrameSetup title={t.settingsTitle} token={token} />
      <div className={styles.header}>
        <h1 className={styles.title}>{t.settingsTitle}</h1>
        <span className={styles.muted}>{o.portal.domain} · v{o.portal.appVersion ?? "?"} · <Badge tone={o.portal.status === "active" ? "ok" : "bad"}>{o.portal.status}</Badge> · {o.portal.installStage}</span>
      </div>
      <Card title={t.bindings} id="bindings">
        <p><Badge tone={healthy === o.bindings.length ? "ok" : "bad"}>{healthy} / {o.bindings.length}</Badge> {t.healthy}</p>
        <Table head={[t.item, t.expected, t.actual]} rows={o.bindings.map((b) => [`${b.code} (${b.mode})`, "✓", <Badge key={b.code} tone={b.actual ? "ok" : "bad"}>{b.actual ? t.healthy : t.broken}</Badge>])} />
        <RebindButton label={t.rebind} busyLabel={t.rebinding} doneLabel={t.rebound} />
      </Card>
      <div className={styles.grid}>
        <Card title={t.scopes} id="scopes">
          <Table head={[t.item, t.status]} rows={o.scopes.map((s) => [`${s.scope} (${s.required ? t.required : t.optional})`, <Badge key={s.scope} tone={s.granted ? "ok" : s.required ? "bad" : "warn"}>{s.granted ? t.granted : t.missing}</Badge>])} />
        </Card>
        <Card title={t.rateLimit} id="limits">
          <div className={styles.chartRow}><Sparkline values={o.restCalls} label="REST calls per minute" /><span>REST</span></div>
          <div className={styles.chartRow}><Sparkline values={o.limitHits} label="QUERY_LIMIT_EXCEEDED per minute" tone="bad" /><span>503</span></div>
          <div className={styles.chartRow}><Sparkline values={o.eventsProcessed} label="Events processed per minute" /><span>events</span></div>
          <Progress value={Math.round(o.bucketLevel)} max={o.portal.burst} label={`bucket (${o.portal.drain}/s)`} />
        </Card>
        <Card title={t.offline} id="offline">
          <p>{t.queueLag}: {fmt(o.offline.inboxOldestPendingAt ?? o.offline.oldestOpenClaimAt, session.lang)}</p>
          <p>{t.errors}: {o.offline.batchesWithErrors || t.none}</p>
        </Card>
        <Card title={t.authFailures} id="auth-failures">
          <Sparkline values={o.authFailures} label={t.authFailures} tone="bad" />
        </Card>
        <Card title={t.backfill} id="backfill">
          {o.backfill.map((b) => <Progress key={b.entityType} value={b.processed} max={b.total} label={`${b.entityType} — ${b.status}`} />)}
        </Card>
      </div>
      <Card title={t.capabilities} id="capabilities">
        <Table head={[t.item, t.status, t.disables]} rows={o.capabilities.map((c) => [c.item, <Badge key={c.item} tone={c.ok ? "ok" : c.required ? "bad" : "warn"}>{c.ok ? "✓" : t.missing}</Badge>, c.ok ? "" : c.disables])} />
      </Card>
      <Card title={t.confirmations} id="confirmations">
        {o.pending.length === 0 ? <p className={styles.muted}>{t.noPending}</p> : (
          <Table head={[t.item, t.status, t.when, ""]} rows={o.pending.map((p) => [p.method, <Badge key={p.id} tone={p.status === "done" ? "ok" : p.status === "pending" ? "warn" : "bad"}>{p.status}</Badge>, fmt(p.createdAt, session.lang), p.status === "done" ? "" : <RerunButton key={p.id} id={p.id} label={t.rerun} />])} />
        )}
      </Card>
      <Card title={t.diagnostics} id="diagnostics">
        <DiagnosticsButton label={t.diagnostics} busyLabel={t.diagnosing} reportTitle={t.report} />
      </Card>
      <Card title={t.audit} id="audit">
        <Table head={[t.when, t.action]} rows={o.audit.map((a) => [fmt(a.createdAt, session.lang), a.action])} />
      </Card>
    </main>
  );
}
