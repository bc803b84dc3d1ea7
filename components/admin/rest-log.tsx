"use client";
import { useEffect, useState, type FormEvent } from "react";
import { sessionFetch } from "@/components/frame/session-fetch";
import { Badge, Card, Table } from "@/components/ui/ui";
import type { RestLogEntry, RestLogPage } from "@/lib/admin/rest-log";
import styles from "./admin.module.css";

// The admin page's REST log: the latest calls the app made to this portal (GET /api/admin/rest-log), a method
// filter, failed calls only, and older pages on demand. Params and answers arrive redacted; a row opens to show them.
const TEXT = {
  en: {
    title: "REST log",
    hint: "Requests the app sent to this portal and its answers (secrets removed), kept at least 3 days.",
    method: "Method",
    errorsOnly: "Failed only",
    search: "Search",
    more: "Older",
    when: "Time",
    status: "Status",
    ms: "ms",
    empty: "No calls logged.",
    loading: "Loading…",
    params: "Request",
    response: "Answer",
  },
  ru: {
    title: "Журнал REST",
    hint: "Запросы приложения к порталу и ответы (без секретов), хранятся не меньше 3 дней.",
    method: "Метод",
    errorsOnly: "Только ошибки",
    search: "Найти",
    more: "Раньше",
    when: "Время",
    status: "Статус",
    ms: "мс",
    empty: "Вызовов нет.",
    loading: "Загрузка…",
    params: "Запрос",
    response: "Ответ",
  },
};

type Filter = { method: string; errorsOnly: boolean };
const failed = (e: RestLogEntry) => e.status === 0 || e.status >= 400 || e.errorCode !== null;

async function fetchPage(f: Filter, before: string | null): Promise<RestLogPage> {
  const q = new URLSearchParams({ method: f.method.trim(), limit: "25" });
  if (f.errorsOnly) q.set("status", "error");
  if (before) q.set("before", before);
  const res = await sessionFetch(`/api/admin/rest-log?${q}`);
  const body = (await res.json().catch(() => ({}))) as Partial<RestLogPage> & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
  return { entries: body.entries ?? [], next: body.next ?? null };
}

function Row({ e, t }: { e: RestLogEntry; t: (typeof TEXT)["en"] }) {
  return (
    <details>
      <summary>
        <code>{e.method}</code> {e.errorCode ? <span className={styles.error}>{e.errorCode}</span> : null}
      </summary>
      <p className={styles.muted}>{t.params}</p>
      <pre className={styles.report}>{e.params}</pre>
      <p className={styles.muted}>{t.response}</p>
      <pre className={styles.report}>{e.response || "—"}</pre>
    </details>
  );
}

export function RestLogCard({ lang }: { lang: "en" | "ru" }) {
  const t = TEXT[lang];
  const [filter, setFilter] = useState<Filter>({ method: "", errorsOnly: false });
  const [shown, setShown] = useState<Filter>(filter);
  const [page, setPage] = useState<RestLogPage>({ entries: [], next: null });
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = async (f: Filter, before: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const next = await fetchPage(f, before);
      setPage((p) => (before ? { entries: [...p.entries, ...next.entries], next: next.next } : next));
      setShown(f);
    } catch (e) {
      setError((e as Error).message);
    }
    setBusy(false);
  };
  useEffect(() => {
    // The latest calls, once, when the section appears (state is set when the answer arrives).
    let live = true;
    fetchPage({ method: "", errorsOnly: false }, null)
      .then(
        (p) => live && setPage(p),
        (e: Error) => live && setError(e.message),
      )
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, []);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    void load(filter, null);
  };
  const when = (iso: string) => new Date(iso).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: "UTC" });

  return (
    <Card title={t.title} id="rest-log">
      <p className={styles.muted}>{t.hint}</p>
      <form className={styles.actions} onSubmit={submit} role="search" aria-label={t.title}>
        <input
          aria-label={t.method}
          placeholder="crm.deal"
          value={filter.method}
          maxLength={100}
          onChange={(ev) => setFilter({ ...filter, method: ev.target.value })}
        />
        <label>
          <input
            type="checkbox"
            checked={filter.errorsOnly}
            onChange={(ev) => setFilter({ ...filter, errorsOnly: ev.target.checked })}
          />{" "}
          {t.errorsOnly}
        </label>
        <button type="submit" className={styles.secondary} disabled={busy}>
          {t.search}
        </button>
        <span role="status" className={styles.status}>
          {busy ? t.loading : null}
        </span>
      </form>
      {error ? (
        <p role="alert" className={styles.error}>
          {error}
        </p>
      ) : null}
      {!busy && !error && page.entries.length === 0 ? <p className={styles.muted}>{t.empty}</p> : null}
      {page.entries.length ? (
        <Table
          head={[t.when, t.method, t.status, t.ms]}
          rows={page.entries.map((e) => [
            `${when(e.at)} UTC`,
            <Row key={e.id} e={e} t={t} />,
            <Badge key={e.id} tone={failed(e) ? "bad" : "ok"}>
              {e.status || "—"}
            </Badge>,
            e.durationMs,
          ])}
        />
      ) : null}
      {page.next ? (
        <div className={styles.actions}>
          <button type="button" className={styles.link} disabled={busy} onClick={() => void load(shown, page.next)}>
            {t.more}
          </button>
        </div>
      ) : null}
    </Card>
  );
}
