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
  const saveText = { save: t.save, saving: t.saving, saved: t.saved }; // every settings form's button and outcome
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
      <Card title={t.settings} id="settings">
        <SettingsForm
          initial={settings}
          years={RETENTION_YEARS}
          text={{
            retention: t.retention,
            retentionForever: t.retentionForever,
            retentionYears: RETENTION_YEARS.map((y) => plural(session.lang, y, t.retentionYears)),
            reconcileEvery: t.reconcileEvery,
            ...saveText,
            retentionHint: t.retentionHint,
            revertPolicy: t.revertPolicy,
            revertEditors: t.revertEditors,
            revertAdmins: t.revertAdmins,
          }}
        />
      </Card>
      <Card title={t.tracking} id="tracking">
        <TrackingForm
          types={trackable}
          initial={settings}
          text={{ keep: t.trackKeep, fields: t.trackFields, of: t.trackOf, hint: t.trackHint, ...saveText }}
        />
      </Card>
      <Card title={t.watchRules} id="watch-rules">
        <p className={styles.muted}>{t.watchHint}</p>
        <WatchRules
          initial={rules.map((r) => ({
            id: r.id,
            name: r.name,
            entityType: r.entityType,
            fields: r.fields,
            condition: r.condition,
            scope: r.scope,
            notifyResponsible: r.notifyResponsible,
            triggerCode: r.triggerCode,
            onlyMine: r.onlyMine,
          }))}
          notifyResponsible={settings.watchNotifyResponsibleDefault}
          text={{
            name: t.watchName,
            type: t.watchType,
            fields: t.watchFields,
            condition: t.watchCondition,
            changed: t.watchChanged,
            cleared: t.watchCleared,
            onlyMine: t.watchOnlyMine,
            notifyResponsible: t.watchNotifyResponsible,
            trigger: t.watchTrigger,
            add: t.watchAdd,
            adding: t.watchAdding,
            none: t.watchNone,
            remove: t.watchDelete,
            types: Object.fromEntries(FIXED_ENTITY_TYPES.map((k) => [k, typeName(t, k)])),
          }}
        />
      </Card>
      <Card title={t.notifySettings} id="notifications">
        <NotifySettingsForm
          initial={{
            watchPaused: settings.watchPaused,
            watchShowValues: settings.watchShowValues,
            watchNotifyResponsibleDefault: settings.watchNotifyResponsibleDefault,
          }}
          text={{
            enabled: t.notifyEnabled,
            values: t.notifyValues,
            responsibleDefault: t.notifyResponsibleDefault,
            hint: t.notifyHint,
            ...saveText,
          }}
        />
      </Card>
      <Card title={t.apiTokens} id="api">
        <p className={styles.muted}>{t.apiHint}</p>
        <ApiTokens
          initial={apiTokens.map((a) => ({
            id: a.id,
            name: a.name,
            createdAt: a.createdAt.toISOString(),
            lastUsedAt: a.lastUsedAt?.toISOString() ?? null,
          }))}
          text={{
            name: t.apiTokenName,
            create: t.createToken,
            creating: t.creatingToken,
            revoke: t.revokeToken,
            shownOnce: t.tokenShownOnce,
            none: t.noTokens,
            lastUsed: t.lastUsed,
            never: t.neverUsed,
            revokeConfirm: t.revokeTokenConfirm,
          }}
        />
      </Card>
      <DiagnosticsPanel o={o} progress={progress} portalId={session.portalId} lang={session.lang} t={t} />
    </main>
  );
}
