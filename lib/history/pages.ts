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
  const claimed = await readSessionToken(token); // authentic and unexpired, its portal not yet checked
  if (!claimed || !token) return { kind: "renew" };
  const parsed = parsePlacementQuery(Object.entries(search));
  // The checks and the history's reads go out together (bench `ui`: the warm tab's first paint waits on this page):
  // the reads only read this portal's rows and nothing of them is used unless both checks pass. A session of an
  // uninstalled (or reinstalled) portal is no session: the page renews through B24Frame or says so.
  const portalCheck = checkSessionPortal(claimed);
  const access = parsed.ok
    ? requireRecordAccess(claimed, parsed.query.entity, parsed.query.id).then(
        () => null,
        (error: unknown) => ({ error }),
      )
    : Promise.resolve(null);
  const view = parsed.ok ? settle(loadHistoryView(claimed, parsed.query, mode === "widget" ? 5 : 50)) : null;
  const session = await portalCheck;
  if (!session) return { kind: "renew" };
  const t = dict(session.lang);
  const lang = session.lang === "ru" ? "ru" : "en";
  if (!parsed.ok) return { kind: "invalid", message: parsed.message, t, lang };
  const refused = await access;
  if (refused) {
    const e = refused.error;
    if (!(e instanceof AppError)) throw e;
    if (e.status === 401) return { kind: "renew" };
    if (e.status === 403) return { kind: "denied" };
    if (e.status === 404) return { kind: "missing" };
    throw e;
  }
  const loaded = await view!;
  if (loaded && "error" in loaded) throw loaded.error;
  const ctx: PlacementContext = { t, lang, token, tokenExpiresAt: session.expiresAt };
  return { kind: "ok", ctx, view: loaded!.value };
}

/** A promise that never rejects: its failure is looked at only when its answer is wanted (no unhandled rejection). */
function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}
