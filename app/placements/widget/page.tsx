import styles from "@/components/admin/admin.module.css";
import { FrameSetup } from "@/components/frame/frame-setup";
import { HistoryTable } from "@/components/placements/history-table";
import { getPageSession } from "@/lib/auth/page-session";
import { queryHistory } from "@/lib/history/query";
import { presentChanges } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

// The toolbar widget (CRM_DEAL_DETAIL_TOOLBAR): the last five changes of the record, in a slider.
export default async function HistoryWidgetPage({ searchParams }: { searchParams: Promise<{ st?: string; entity?: string; id?: string }> }) {
  const q = await searchParams;
  const auth = await getPageSession(q.st);
  if (!auth) return <main className={styles.page}><p role="alert">{dict("en").sessionExpired}</p></main>;
  const t = dict(auth.session.lang);
  const entityId = Number(q.id);
  const page = await queryHistory(auth.session.portalId, { entityType: q.entity ?? "deal", entityId: Number.isInteger(entityId) ? entityId : 0, limit: 5 });
  return (
    <main className={styles.page}>
      <FrameSetup title={t.widgetTitle} token={auth.token} />
      <h1 className={styles.title}>{t.recentChanges}</h1>
      <HistoryTable rows={await presentChanges(auth.session.portalId, q.entity ?? "deal", page.items, auth.session.lang)} t={t} />
    </main>
  );
}
