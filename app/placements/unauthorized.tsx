import { RenewSession } from "@/components/placements/islands";
import { boundaryDict } from "@/components/placements/placement-page";

// 401: no valid session (an expired hand-off token, an uninstalled portal's): renewed through B24Frame, silently.
export default async function Unauthorized() {
  const { lang, t } = await boundaryDict();
  return (
    <main className="page" lang={lang}>
      <RenewSession text={{ reconnecting: t.reconnecting, sessionExpired: t.sessionExpired }} />
    </main>
  );
}
