import type { ReactNode } from "react";
import { FrameSetup } from "@/components/frame/frame-setup";
import type { PortalSession } from "@/lib/auth/session";
import { getPageSession } from "@/lib/auth/page-session";
import { isStillAdmin } from "@/lib/auth/user-rights";
import { dict, type Dict } from "@/lib/i18n";
import styles from "./admin.module.css";

/**
 * The admins' pages (settings, audit) open through this gate: a session from the hand-off token, and the admin flag
 * from sign-in asked again of Bitrix24 (user.admin, ≤ 30 s old). Otherwise the page is what to show instead.
 */
export async function adminPageGate(
  st: string | undefined,
): Promise<{ session: PortalSession; token: string; t: Dict } | { page: ReactNode }> {
  const auth = await getPageSession(st);
  if (!auth)
    return {
      page: (
        <main className={styles.page}>
          <p role="alert">{dict("en").sessionExpired}</p>
        </main>
      ),
    };
  const { session, token } = auth;
  const t = dict(session.lang);
  if (!session.isAdmin || !(await isStillAdmin(session, false).catch(() => false))) {
    return {
      page: (
        <main className={`${styles.page} ${styles.deniedBox}`}>
          <FrameSetup title={t.appTitle} token={token} />
          <h1 className={styles.title}>{t.appTitle}</h1>
          <p role="alert" className={styles.notice}>
            {t.denied} {t.deniedHint}
          </p>
        </main>
      ),
    };
  }
  return { session, token, t };
}
