import styles from "@/components/admin/admin.module.css";
import { FrameSetup } from "@/components/frame/frame-setup";
import { HistoryTable } from "@/components/placements/history-table";
import { ExportButton } from "@/components/placements/history-actions";
import { getPageSession } from "@/lib/auth/page-session";
import { queryHistory } from "@/lib/history/query";
import { presentChanges } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

export const dynamic = "force-dynamic";
const ENTITIES = new Set(["deal", "contact", "company", "lead"]);

// The Change history tab on a CRM card (CRM_<ENTITY>_DETAIL_TAB; the record id comes from PLACEMENT_OPTIONS.ID).
export default async function HistoryTabPage({ searchParams }: { searchParams: Promise<{ st?: string; entity?: string; id?: string; cursor?: string }> }) {
  const q = await searchParams;
  const auth = await getPageSession(q.st);
  if (!auth) return <main className={styles.page}><p role="alert">{dict("en").sessionExpired}</p></main>;
  const t = dict(auth.session.lang);
  const entityId = Number(q.id);
  if (!ENTITIES.has(q.entity ?? "") || !Number.isInteger(entityId) || entityId <= 0) return <main className={styles.page}><p role="alert">{t.record}?</p></main>;
  const page = await queryHistory(auth.session.portalId, { entityType: q.entity!, entityId, cursor: q.cursor });
  const rows = await presentChanges(auth.session.portalId, q.entity!, page.items, auth.session.lang);
  return (
    <main className={styles.page}>
      <FrameSetup title={`${t.history} — ${q.entity} #${entityId}`} token={auth.token} />
      <h1 className={styles.title}>{t.history}</h1>
      <p className={styles.muted}>{t.record}: {q.entity} #{entityId}</p>
      <ExportButton entity={q.entity!} id={entityId} label={t.exportCsv} doneLabel={t.exported} />
      <HistoryTable rows={rows} t={t} canRevert={auth.session.isAdmin} />
    </main>
  );
}
