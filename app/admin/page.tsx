import { DiagnosticsButton, RerunButton } from "@/components/admin/admin-actions";
import { adminPageGate } from "@/components/admin/admin-gate";
import styles from "@/components/admin/admin.module.css";
import { BindingsCard } from "@/components/admin/bindings-card";
import { CoverageCard } from "@/components/admin/coverage-card";
import { LiveProgress } from "@/components/admin/live-progress";
import { RestLogCard } from "@/components/admin/rest-log";
import { SettingsForm } from "@/components/admin/settings-card";
import { TrackingForm } from "@/components/admin/tracking-card";
import { ApiTokens } from "@/components/admin/api-tokens-card";
import { WatchRules } from "@/components/admin/watch-rules-card";
import { listApiTokens } from "@/lib/api/tokens";
import { listRules } from "@/lib/watch/rules";
import { FrameSetup } from "@/components/frame/frame-setup";
import { Badge, Card, Progress, Sparkline, Table, Tile } from "@/components/ui/ui";
import { loadAdminOverview } from "@/lib/admin/overview";
import { loadProgress } from "@/lib/admin/progress";
import { loadSettings } from "@/lib/admin/settings";
import { trackableTypes } from "@/lib/admin/tracking";
import { adminStatus } from "@/lib/admin/status";
import { getDb } from "@/lib/db";
import { RETENTION_YEARS } from "@/lib/history/retention";
import { entityLabels, plural, typeName, type Dict } from "@/lib/i18n";
import { eventHandlerUrl } from "@/lib/lifecycle/registry";
import { FIXED_ENTITY_TYPES } from "@/lib/history/entity-types";

export const dynamic = "force-dynamic";

const fmt = (d: Date | null, lang: string) => (d ? d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" }) + " UTC" : "—");
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const CALL_STATUS: Record<string, { tone: "ok" | "warn" | "bad" | "muted"; text: keyof Dict }> = {
  pending: { tone: "warn", text: "statusPending" }, done: { tone: "ok", text: "statusDone" }, denied: { tone: "bad", text: "statusDenied" },
  failed: { tone: "bad", text: "statusFailed" }, expired: { tone: "muted", text: "statusExpired" },
};

// The app's main page in Bitrix24 (PLACEMENT=DEFAULT), for portal administrators: health, repairs and live work.
export default async function AdminPage({ searchParams }: { searchParams: Promise<{ st?: string }> }) {
  // The admin flag is from sign-in; Bitrix24 is asked again (user.admin, ≤ 30 s old) before admin data is shown.
  const gate = await adminPageGate((await searchParams).st);
  if ("page" in gate) return gate.page;
  const { session, token, t } = gate;
  const [o, progress, settings, apiTokens, rules, dead, trackable] = await Promise.all([loadAdminOverview(session.portalId),
    loadProgress(session.portalId), loadSettings(session.portalId), listApiTokens(session.portalId),
    listRules({ ...session, isAdmin: true }), getDb().eventInbox.count({ where: { portalId: session.portalId, status: "dead" } }),
    trackableTypes(session.portalId, t)]);
  const status = adminStatus(o, dead);
  const healthy = o.bindings.filter((b) => b.actual).length;
  const entities = entityLabels(t);
  return (
    <main className={styles.page} lang={session.lang}>
      <FrameSetup title={t.settingsTitle} token={token} />
      <div className={styles.header}>
        <h1 className={styles.title}>{t.settingsTitle}</h1>
        <span className={styles.muted}>{o.portal.domain} · {t.portalVersion} {o.portal.appVersion ?? "?"} · <Badge tone={o.portal.status === "active" ? "ok" : "bad"}>{o.portal.status}</Badge> · {o.portal.installStage}</span>
      </div>
      <p><a href={`/audit?st=${encodeURIComponent(token)}`}>{t.auditLink}</a></p>
      <p className={styles.statusLine} data-tone={status.tone} data-status={status.key}>
        <Badge tone={status.tone}>{status.tone === "ok" ? "✓" : "!"}</Badge> {t[status.key]}{status.detail ? ` (${status.detail})` : ""}
        {status.anchor && <> <a className={styles.fix} href={status.anchor}>{t.fixIt}</a></>}
      </p>
      {o.alerts.map((a) => <p key={a.code} role="alert" className={styles.notice}>{t.configAlert}: {a.message}</p>)}
      {o.portal.status === "needs_reauth" && <p role="alert" className={styles.notice}>{t.needsReauth}</p>}
      {o.portal.tokensProblem && <p role="alert" className={styles.notice}>{t.tokensOwnerNotAdmin}</p>}
      <section aria-label={t.overview} className={styles.tiles}>
        <Tile label={t.bindingsHealthy} value={`${healthy} / ${o.bindings.length}`} tone={healthy === o.bindings.length ? "ok" : "bad"} href="#bindings" />
        <Tile label={t.eventsLastHour} value={sum(o.eventsProcessed)} href="#limits"><Sparkline values={o.eventsProcessed} label={t.eventsPerMinute} /></Tile>
        <Tile label={t.waitingNow} value={progress.queue.waiting} tone={progress.queue.waiting ? "warn" : "ok"} href="#work" />
        <Tile label={t.rejectedLastHour} value={sum(o.authFailures)} tone={sum(o.authFailures) ? "bad" : "ok"} href="#auth-failures"><Sparkline values={o.authFailures} label={t.authFailures} tone="bad" /></Tile>
      </section>
      <BindingsCard bindings={o.bindings} t={t} handler={eventHandlerUrl()} />
      <CoverageCard portalId={session.portalId} lang={session.lang} />
      <div className={styles.grid}>
        <Card title={t.work} id="work">
          <LiveProgress initial={progress} text={{ backfill: t.backfill, queue: t.queue, processed: t.processed, waiting: t.waiting, failedForGood: t.failedForGood, idle: t.idle, runBackfill: t.runBackfill, backfillQueued: t.backfillQueued, entities }} />
        </Card>
        <Card title={t.rateLimit} id="limits">
          <div className={styles.chartRow}><Sparkline values={o.restCalls} label={t.restCalls} /><span>{t.restCalls}: {sum(o.restCalls)}</span></div>
          <div className={styles.chartRow}><Sparkline values={o.limitHits} label={t.limitHits} tone="bad" /><span>{t.limitHits}: {sum(o.limitHits)}</span></div>
          <div className={styles.chartRow}><Sparkline values={o.eventsProcessed} label={t.eventsPerMinute} /><span>{t.eventsPerMinute}: {sum(o.eventsProcessed)}</span></div>
          <Progress value={Math.round(o.bucketLevel)} max={o.portal.burst} label={`${t.budget} (${o.portal.drain}/s)`} />
        </Card>
        <Card title={t.offline} id="offline">
          <p>{t.queueLag}: {fmt(o.offline.inboxOldestPendingAt ?? o.offline.oldestOpenClaimAt, session.lang)}</p>
          <p>{t.errors}: {o.offline.batchesWithErrors || t.none}</p>
        </Card>
        <Card title={t.authFailures} id="auth-failures">
          <div className={styles.chartRow}><Sparkline values={o.authFailures} label={t.authFailures} tone="bad" /><span>{sum(o.authFailures)} · {t.lastHour}</span></div>
        </Card>
        <Card title={t.scopes} id="scopes">
          <Table head={[t.item, t.status]} rows={o.scopes.map((s) => [`${s.scope} (${s.required ? t.required : t.optional})`, <Badge key={s.scope} tone={s.granted ? "ok" : s.required ? "bad" : "warn"}>{s.granted ? t.granted : t.missing}</Badge>])} />
        </Card>
      </div>
      <Card title={t.capabilities} id="capabilities">
        <p className={styles.muted}>{t.checkedAt}: {fmt(o.probedAt, session.lang)}</p>
        <Table head={[t.item, t.status, t.disables]} rows={o.capabilities.map((c) => [<code key={c.item}>{c.item}</code>, <Badge key={c.item} tone={c.ok ? "ok" : c.required ? "bad" : "warn"}>{c.ok ? "✓" : t.missing}</Badge>, c.ok ? "" : c.disables])} />
      </Card>
      <Card title={t.confirmations} id="confirmations">
        {o.pending.length === 0 ? <p className={styles.muted}>{t.noPending}</p> : (
          <Table head={[t.item, t.status, t.when, ""]} rows={o.pending.map((p) => {
            const st = CALL_STATUS[p.status] ?? { tone: "muted" as const, text: "statusFailed" as const };
            return [<code key={p.id}>{p.method}</code>, <Badge key={p.id} tone={st.tone}>{t[st.text]}</Badge>, fmt(p.createdAt, session.lang), p.status === "done" ? "" : <RerunButton key={p.id} id={p.id} label={t.rerun} />];
          })} />
        )}
      </Card>
      <Card title={t.settings} id="settings">
        <SettingsForm initial={settings} years={RETENTION_YEARS} text={{ retention: t.retention, retentionForever: t.retentionForever,
          retentionYears: RETENTION_YEARS.map((y) => plural(session.lang, y, t.retentionYears)), reconcileEvery: t.reconcileEvery,
          save: t.save, saving: t.saving, saved: t.saved, retentionHint: t.retentionHint, revertPolicy: t.revertPolicy,
          revertEditors: t.revertEditors, revertAdmins: t.revertAdmins }} />
      </Card>
      <Card title={t.tracking} id="tracking">
        <TrackingForm types={trackable} initial={settings} text={{ keep: t.trackKeep, fields: t.trackFields, of: t.trackOf,
          save: t.save, saving: t.saving, saved: t.saved, hint: t.trackHint }} />
      </Card>
      <Card title={t.watchRules} id="watch-rules">
        <p className={styles.muted}>{t.watchHint}</p>
        <WatchRules initial={rules.map((r) => ({ id: r.id, name: r.name, entityType: r.entityType, fields: r.fields, condition: r.condition,
          scope: r.scope, notifyResponsible: r.notifyResponsible, triggerCode: r.triggerCode, onlyMine: r.onlyMine }))}
          text={{ name: t.watchName, type: t.watchType, fields: t.watchFields, condition: t.watchCondition, changed: t.watchChanged,
            cleared: t.watchCleared, onlyMine: t.watchOnlyMine, notifyResponsible: t.watchNotifyResponsible, trigger: t.watchTrigger,
            add: t.watchAdd, adding: t.watchAdding, none: t.watchNone, remove: t.watchDelete,
            types: Object.fromEntries(FIXED_ENTITY_TYPES.map((k) => [k, typeName(t, k)])) }} />
      </Card>
      <Card title={t.apiTokens} id="api">
        <p className={styles.muted}>{t.apiHint}</p>
        <ApiTokens initial={apiTokens.map((a) => ({ id: a.id, name: a.name, createdAt: a.createdAt.toISOString(), lastUsedAt: a.lastUsedAt?.toISOString() ?? null }))}
          text={{ name: t.apiTokenName, create: t.createToken, creating: t.creatingToken, revoke: t.revokeToken, shownOnce: t.tokenShownOnce,
            none: t.noTokens, lastUsed: t.lastUsed, never: t.neverUsed, revokeConfirm: t.revokeTokenConfirm }} />
      </Card>
      <Card title={t.diagnostics} id="diagnostics">
        <DiagnosticsButton label={t.diagnostics} busyLabel={t.diagnosing} reportTitle={t.report} />
      </Card>
      <RestLogCard lang={session.lang} />
      <Card title={t.audit} id="audit">
        <Table head={[t.when, t.action]} rows={o.audit.map((a) => [fmt(a.createdAt, session.lang), <code key={a.createdAt.toISOString() + a.action}>{a.action}</code>])} />
      </Card>
    </main>
  );
}
