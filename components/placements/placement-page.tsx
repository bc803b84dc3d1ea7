import "server-only";
import { cookies, headers } from "next/headers";
import { forbidden, notFound, unauthorized } from "next/navigation";
import { SESSION_COOKIE } from "@/lib/auth/session";
import { dict } from "@/lib/i18n";
import { resolvePlacement } from "@/lib/history/pages";
import { HistoryTab, HistoryWidget } from "@/components/placements/history-view";

// GET /placements/tab and /placements/widget (docs/decisions/013-placements-as-react-pages.md): the outcome decides
// the status before anything is rendered — 401 renews the session (app/placements/unauthorized.tsx), 403 and 404
// say why the history is hidden (forbidden.tsx, not-found.tsx); a malformed address names no record: 404 too.
export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const cookieToken = async () => (await cookies()).get(SESSION_COOKIE)?.value ?? null;

export async function placementPage(searchParams: SearchParams, mode: "tab" | "widget") {
  const outcome = await resolvePlacement(await searchParams, cookieToken, mode);
  if (outcome.kind === "renew") unauthorized();
  if (outcome.kind === "denied") forbidden();
  if (outcome.kind !== "ok") notFound();
  const props = { view: outcome.view, ...outcome.ctx };
  return mode === "tab" ? <HistoryTab {...props} /> : <HistoryWidget {...props} />;
}

/**
 * The language of a page that has no session to ask (401) or whose answer is a boundary without props (403, 404):
 * the browser's first language when it is Russian, else English.
 */
export async function boundaryDict() {
  const lang = /^ru\b/i.test((await headers()).get("accept-language") ?? "") ? "ru" : "en";
  return { lang, t: dict(lang) } as const;
}
