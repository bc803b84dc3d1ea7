import { adminPageGate } from "@/components/admin/admin-gate";
import styles from "@/components/admin/admin.module.css";
import { DiagnosticsPanel } from "@/components/admin/diagnostics-panel";
import { FixLink } from "@/components/admin/fix-link";
import { NotifySettingsForm } from "@/components/admin/notify-settings-card";
import { SettingsForm } from "@/components/admin/settings-card";
import { TrackingForm } from "@/components/admin/tracking-card";
import { ApiTokens } from "@/components/admin/api-tokens-card";
import { WatchRules } from "@/components/admin/watch-rules-card";
import { listApiTokens } from "@/lib/api/tokens";
import { listRules } from "@/lib/watch/rules";
import { FrameSetup } from "@/components/frame/frame-setup";
import { Badge, Card } from "@/components/ui/ui";
import { loadAdminOverview } from "@/lib/admin/overview";
import { loadProgress } from "@/lib/admin/progress";
import { loadSettings } from "@/lib/admin/settings";
import { trackableTypes } from "@/lib/admin/tracking";
import { adminStatus } from "@/lib/admin/status";
import { getDb } from "@/lib/db";
import { RETENTION_YEARS } from "@/lib/history/retention";
import { plural, typeName } from "@/lib/i18n";
import { FIXED_ENTITY_TYPES } from "@/lib/history/entity-types";

export const dynamic = "force-dynamic";

// The app's main page in Bitrix24 (PLACEMENT=DEFAULT), for portal administrators (issue #17 item 5): one plain line
// first — all is well, or what to do and a link to it —, then the settings an admin uses, and the developer console
// (bindings, queues, logs, diagnostics) one click below in a closed disclosure (components/admin/diagnostics-panel.tsx).
export default async function AdminPage({ searchParams }: { searchParams: Promise<{ st?: string }> }) {
  // The admin flag is from sign-in; Bitrix24 is asked again (user.admin, ≤ 30 s old) before admin data is shown.
  const gate = await adminPageGate((await searchParams).st);
  if ("page" in gate) return gate.page;
  const { session, token, t } = gate;
  const [o, progress, settings, apiTokens, rules, dead, trackable] = await Promise.all([
    loadAdminOverview(session.portalId),
    loadProgress(session.portalId),
    loadSettings(session.portalId),
    listApiTokens(session.portalId),
    listRules({ ...session, isAdmin: true }),
    getDb().eventInbox.count({ where: { portalId: session.portalId, status: "dead" } }),
    trackableTypes(session.portalId, t),
  ]);
  const status = adminStatus(o, dead);
  return (
    <main className={styles.page} lang={session.lang}>
      <FrameSetup title={t.settingsTitle} token={token} />
      <div className={styles.header}>
        <h1 className={styles.title}>{t.settingsTitle}</h1>
        <span className={styles.muted}>
          {o.portal.domain} · {t.portalVersion} {o.portal.appVersion ?? "?"} ·{" "}
          <Badge tone={o.portal.status === "active" ? "ok" : "bad"}>{o.portal.status}</Badge> · {o.portal.installStage}
        </span>
      </div>
      <p>
        <a href={`/audit?st=${encodeURIComponent(token)}`}>{t.auditLink}</a>
      </p>
      <p className={styles.statusLine} data-tone={status.tone} data-status={status.key}>
        <Badge tone={status.tone}>{status.tone === "ok" ? "✓" : "!"}</Badge> {t[status.key]}
        {status.detail ? ` (${status.detail})` : ""}
        {status.anchor && (
          <>
            {" "}
            <FixLink className={styles.fix} href={status.anchor}>
              {t.fixIt}
            </FixLink>
          </>
        )}
      </p>
      {o.alerts.map((a) => (
        <p key={a.code} role="alert" className={styles.notice}>
          {t.configAlert}: {a.message}
        </p>
      ))}
      {o.portal.status === "needs_reauth" && (
        <p role="alert" className={styles.notice}>
          {t.needsReauth}
        </p>
      )}
      {o.portal.tokensProblem && (
        <p role="alert" className={styles.notice}>
          {t.tokensOwnerNotAdmin}
        </p>
      )}
      <Card title={t.settings.title} id="settings">
        <SettingsForm
          initial={settings}
          years={RETENTION_YEARS}
          text={{
            ...t.settings,
            ...t.saveButton,
            retentionYears: RETENTION_YEARS.map((y) => plural(session.lang, y, t.settings.retentionYears)),
          }}
        />
      </Card>
      <Card title={t.tracking.title} id="tracking">
        <TrackingForm types={trackable} initial={settings} text={{ ...t.tracking, ...t.saveButton }} />
      </Card>
      <Card title={t.watchRules.title} id="watch-rules">
        <p className={styles.muted}>{t.watchRules.hint}</p>
        <WatchRules
          initial={rules}
          notifyResponsible={settings.watchNotifyResponsibleDefault}
          text={{ ...t.watchRules, types: Object.fromEntries(FIXED_ENTITY_TYPES.map((k) => [k, typeName(t, k)])) }}
        />
      </Card>
      <Card title={t.notifySettings.title} id="notifications">
        <NotifySettingsForm
          initial={{
            watchPaused: settings.watchPaused,
            watchShowValues: settings.watchShowValues,
            watchNotifyResponsibleDefault: settings.watchNotifyResponsibleDefault,
          }}
          text={{ ...t.notifySettings, ...t.saveButton }}
        />
      </Card>
      <Card title={t.apiTokens.title} id="api">
        <p className={styles.muted}>{t.apiTokens.hint}</p>
        <ApiTokens initial={apiTokens} text={t.apiTokens} />
      </Card>
      <DiagnosticsPanel o={o} progress={progress} portalId={session.portalId} lang={session.lang} t={t} />
    </main>
  );
}
