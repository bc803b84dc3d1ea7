import "server-only";
import { cookies, headers } from "next/headers";
import { forbidden, notFound, unauthorized } from "next/navigation";
import { LANG_HEADER, SESSION_COOKIE } from "@/lib/auth/session";
import { dict } from "@/lib/i18n";
import { resolvePlacement } from "@/lib/history/pages";
import { HistoryTab, HistoryWidget, PlacementNotice } from "@/components/placements/history-view";

// GET /placements/tab and /placements/widget (docs/decisions/013-placements-as-react-pages.md): the outcome decides
// the status before anything is rendered — 401 renews the session (app/placements/unauthorized.tsx), 403 and 404
// say why the history is hidden (forbidden.tsx, not-found.tsx); a malformed parameter is named on a 400 page (the
// status is proxy.ts's, which checks the address the same way before the page renders).
export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const cookieToken = async () => (await cookies()).get(SESSION_COOKIE)?.value ?? null;

export async function placementPage(searchParams: SearchParams, mode: "tab" | "widget") {
  const outcome = await resolvePlacement(await searchParams, cookieToken, mode);
  if (outcome.kind === "renew") unauthorized();
  if (outcome.kind === "denied") forbidden();
  if (outcome.kind === "missing") notFound();
  if (outcome.kind === "invalid")
    return (
      <PlacementNotice text={`${outcome.t.record}: ${outcome.message}`} title={outcome.t.history} lang={outcome.lang} />
    );
  const props = { view: outcome.view, ...outcome.ctx };
  return mode === "tab" ? <HistoryTab {...props} /> : <HistoryWidget {...props} />;
}

/**
 * The language of a page that has no session to use (401) or whose answer is a boundary without props (403, 404):
 * the session token's, expired or not, as proxy.ts read it; without a token the browser's (Russian or English).
 */
export async function boundaryDict() {
  const lang = (await headers()).get(LANG_HEADER) === "ru" ? "ru" : "en";
  return { lang, t: dict(lang) } as const;
}
