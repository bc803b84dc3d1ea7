import "server-only";
import { checkSessionPortal, readSessionToken, SESSION_COOKIE } from "@/lib/auth/session";
import { requireRecordAccess } from "@/lib/auth/user-rights";
import { AppError } from "@/lib/http-errors";
import { dict } from "@/lib/i18n";
import { loadHistoryView, HistoryViewQuerySchema } from "@/lib/history/view";
import { renderHistoryTab, renderHistoryWidget, renderRenew, shell, type PageContext } from "@/components/placements/history-page";
import { html } from "@/lib/html";

// GET /placements/tab and /placements/widget: the session from the hand-off token (`st`, cookie-less iframes) or
// the session cookie; every query scoped by the session's portal. No session → 401 with a page whose script renews
// it through B24Frame (expired frame auth without a visible error); bad input → 400 naming the parameter.
const HTML_HEADERS = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };

function cookieToken(req: Request): string | null {
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(req.headers.get("cookie") ?? "")?.[1] ?? null;
}

export async function servePlacementPage(req: Request, mode: "tab" | "widget"): Promise<Response> {
  const url = new URL(req.url);
  const token = url.searchParams.get("st") || cookieToken(req);
  // A session of an uninstalled (or reinstalled) portal is no session: the page renews through B24Frame or says so.
  const session = await checkSessionPortal(await readSessionToken(token));
  const lang = session?.lang ?? (url.searchParams.get("lang") === "ru" ? "ru" : "en");
  const t = dict(lang);
  const ctx: PageContext = { t, lang, title: mode === "tab" ? t.history : t.recentChanges, token: session ? token : null, tokenExpiresAt: session?.expiresAt ?? null, canRevert: Boolean(session) };
  // Everyone may try a revert: it is written with their own token, so Bitrix24 allows exactly what their role allows.
  if (!session) return new Response(renderRenew(ctx), { status: 401, headers: HTML_HEADERS });
  const parsed = HistoryViewQuerySchema.safeParse(Object.fromEntries([...url.searchParams].filter(([, v]) => v !== "")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return new Response(shell(ctx, mode, html`<p class="notice" role="alert">${t.record}: ${issue.path.join(".")} ${issue.message}</p>`), { status: 400, headers: HTML_HEADERS });
  }
  try {
    await requireRecordAccess(session, parsed.data.entity, parsed.data.id);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.status === 401) return new Response(renderRenew({ ...ctx, token: null }), { status: 401, headers: HTML_HEADERS });
    const text = e.status === 403 ? t.recordDenied : e.status === 404 ? t.recordMissing : e.message;
    return new Response(shell(ctx, mode, html`<p class="notice" role="alert">${text}</p>`), { status: e.status, headers: HTML_HEADERS });
  }
  if (mode === "widget") return new Response(renderHistoryWidget(await loadHistoryView(session, parsed.data, 5), ctx), { headers: HTML_HEADERS });
  ctx.title = `${t.history} — ${parsed.data.entity} #${parsed.data.id}`;
  return new Response(renderHistoryTab(await loadHistoryView(session, parsed.data), ctx), { headers: HTML_HEADERS });
}
