import "server-only";
import { checkSessionPortal, readSessionToken } from "@/lib/auth/session";
import { requireRecordAccess } from "@/lib/auth/user-rights";
import { AppError } from "@/lib/http-errors";
import { dict, type Dict } from "@/lib/i18n";
import { loadHistoryView, type HistoryView } from "@/lib/history/view";
import { parsePlacementQuery } from "@/lib/history/view-query";

// What GET /placements/tab and /placements/widget answer, decided before anything is rendered: the session from the
// hand-off token (`st`, cookie-less iframes) or the session cookie, every query scoped by the session's portal.
// No session → "renew" (401: the page renews it through B24Frame without a visible error); bad input → "invalid"
// naming the parameter (400: proxy.ts sets the status with the same check, parsePlacementQuery); a record the user
// may not read or that is gone → "denied" / "missing" (requireRecordAccess). The pages map each outcome to its
// status (docs/decisions/013-placements-as-react-pages.md).
export interface PlacementContext {
  t: Dict;
  lang: "en" | "ru";
  /** the session token: carried in links (`st`) and sent as Bearer by the client islands */
  token: string;
  tokenExpiresAt: number;
}

export type PlacementOutcome =
  | { kind: "renew" }
  | { kind: "invalid"; message: string; t: Dict; lang: "en" | "ru" }
  | { kind: "denied" }
  | { kind: "missing" }
  | { kind: "ok"; ctx: PlacementContext; view: HistoryView };

type Search = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export async function resolvePlacement(
  search: Search,
  cookieToken: () => Promise<string | null>,
  mode: "tab" | "widget",
): Promise<PlacementOutcome> {
  const token = first(search.st) || (await cookieToken());
  // A session of an uninstalled (or reinstalled) portal is no session: the page renews through B24Frame or says so.
  const session = await checkSessionPortal(await readSessionToken(token));
  if (!session || !token) return { kind: "renew" };
  const t = dict(session.lang);
  const lang = session.lang === "ru" ? "ru" : "en";
  const parsed = parsePlacementQuery(Object.entries(search));
  if (!parsed.ok) return { kind: "invalid", message: parsed.message, t, lang };
  try {
    await requireRecordAccess(session, parsed.query.entity, parsed.query.id);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.status === 401) return { kind: "renew" };
    if (e.status === 403) return { kind: "denied" };
    if (e.status === 404) return { kind: "missing" };
    throw e;
  }
  const ctx: PlacementContext = { t, lang, token, tokenExpiresAt: session.expiresAt };
  return { kind: "ok", ctx, view: await loadHistoryView(session, parsed.query, mode === "widget" ? 5 : 50) };
}
