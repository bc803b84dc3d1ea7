"use client";
import { useEffect, useState, useSyncExternalStore } from "react";
import { FrameSetup, type FrameSession } from "@/components/frame/frame-setup";
import { freshToken, HttpError, postJson, renewSession } from "@/components/frame/session-fetch";
import { setStatus, useStatus } from "@/components/placements/status";
import { ask } from "@/components/placements/confirm-dialog";

// The CRM placements' client islands: everything else on the page is rendered on the server and works without them.
type Rec = { entity: string; id: number };

/** The user's time zone: the server writes times in it (`tz`), and the CSV export too. */
const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;

/** A link or form target with the current session (`st`) and the user's time zone (`tz`). */
async function withSession(href: string): Promise<string> {
  const next = new URL(href, location.href);
  const token = await freshToken();
  if (token) next.searchParams.set("st", token);
  const tz = timeZone();
  if (tz) next.searchParams.set("tz", tz);
  return next.toString();
}

/**
 * The frame (title, height, session) plus navigation: links (`a[data-nav]`) and the filter form carry the session
 * token, so it is renewed first when it is about to expire, and the browser's time zone is added.
 */
export function PlacementFrame(frame: FrameSession & { expiresAt: number; record: Rec }) {
  useEffect(() => {
    const onClick = (e: MouseEvent) => {
      const link = (e.target as HTMLElement).closest<HTMLAnchorElement>("a[data-nav]");
      if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey) return;
      e.preventDefault();
      void withSession(link.href).then((href) => location.assign(href));
    };
    // No submit on "change": keyboard users move through a closed select with the arrow keys, one change per key.
    const onSubmit = (e: SubmitEvent) => {
      const form = e.target as HTMLFormElement;
      if (!form.matches("form.filters")) return;
      e.preventDefault();
      const target = new URL(form.action, location.href);
      for (const [k, v] of new FormData(form)) if (typeof v === "string" && v !== "") target.searchParams.set(k, v);
      void withSession(target.toString()).then((href) => location.assign(href));
    };
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit);
    return () => {
      document.removeEventListener("click", onClick);
      document.removeEventListener("submit", onSubmit);
    };
  }, []);
  return <FrameSetup {...frame} />;
}

/** A time in the browser's own zone and locale once scripts run; the server's text (in `tz`, or UTC) before. */
const noSubscription = () => () => undefined;

/** false on the server and while hydrating (the markup must match), true once React runs in the browser. */
const useHydrated = () =>
  useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );

export function LocalTime({ iso, text, lang }: { iso: string; text: string; lang: string }) {
  // The server's text while hydrating, the browser's once hydrated.
  const hydrated = useHydrated();
  return (
    <time dateTime={iso}>{hydrated ? new Date(iso).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB") : text}</time>
  );
}

export function StatusLine() {
  return (
    <span className="status" role="status" aria-live="polite">
      {useStatus()}
    </span>
  );
}

export function ExportButton({ entity, id, text }: Rec & { text: { exportCsv: string; exported: string } }) {
  const [busy, setBusy] = useState(false);
  const run = () => {
    setBusy(true);
    postJson("/api/history/export", { entity, id, tz: timeZone() })
      .then(
        (r) => setStatus(`${text.exported}: ${String(r.name)}`),
        (e: Error) => setStatus(e.message),
      )
      .finally(() => setBusy(false));
  };
  return (
    <button type="button" className="btn btn-light" data-export="" disabled={busy} onClick={run}>
      {text.exportCsv}
    </button>
  );
}

type RevertText = {
  revert: string;
  revertConfirm: string;
  revertTitle: string;
  overwriteConfirm: string;
  pending: string;
  cancel: string;
};

export function RevertButton({ id, field, t }: { id: string; field: string; t: RevertText }) {
  const send = (overwrite: boolean): Promise<void> =>
    postJson("/api/history/revert", { changeId: id, overwrite }).then(
      async (r) => {
        if (r.status === "pending") return setStatus(t.pending);
        // Reloaded with the success message, which shows even when the filters hide the revert's own entry.
        const next = new URL(location.href);
        next.searchParams.set("done", "revert");
        location.replace(await withSession(next.toString()));
      },
      (e: Error) => {
        setStatus(e.message);
        // 409: the field changed since; the message shows its current value — overwrite only when asked to.
        if (!(e instanceof HttpError) || e.status !== 409 || overwrite) return;
        return ask({
          title: t.revertTitle,
          text: `${e.message} ${t.overwriteConfirm}`,
          ok: t.revert,
          cancel: t.cancel,
        }).then((yes) => (yes ? send(true) : undefined));
      },
    );
  const click = () =>
    void ask({ title: t.revertTitle, text: t.revertConfirm, ok: t.revert, cancel: t.cancel }).then((yes) =>
      yes ? send(false) : undefined,
    );
  // disabled until hydrated: before, a click did nothing at all (its handler was not attached yet)
  const hydrated = useHydrated();
  return (
    <button
      type="button"
      className="link"
      data-revert={id}
      aria-label={`${t.revert}: ${field}`}
      onClick={click}
      disabled={!hydrated}
    >
      {t.revert}
    </button>
  );
}

/** No valid session (an expired hand-off token): renewed through B24Frame and the page reloaded, silently. */
export function RenewSession({ text }: { text: { reconnecting: string; sessionExpired: string } }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const q = new URL(location.href).searchParams;
    const id = Number(q.get("id"));
    const record = q.get("entity") && id > 0 ? { entity: q.get("entity")!, id } : undefined;
    void renewSession(record).then(async (fresh) => {
      if (fresh) location.replace(await withSession(location.href));
      else setFailed(true);
    });
  }, []);
  return (
    <p className="notice" role="status" data-renew="">
      {failed ? text.sessionExpired : text.reconnecting}
    </p>
  );
}
