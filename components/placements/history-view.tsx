import type { ReactNode } from "react";
import { plural, type Dict } from "@/lib/i18n";
import type { HistoryView } from "@/lib/history/view";
import type { HistoryRow } from "@/lib/history/present";
import type { ValuePart } from "@/lib/history/format";
import { groupChangeSets, type ChangeSet } from "@/lib/history/change-sets";
import { ExportButton, LocalTime, PlacementFrame, RevertButton, StatusLine } from "@/components/placements/islands";
import { ConfirmHost } from "@/components/placements/confirm-dialog";
import { FrameFit } from "@/components/frame/frame-setup";
import { NotifyMeFor } from "@/components/placements/notify-me";

// The CRM tab and the toolbar widget (docs/decisions/013-placements-as-react-pages.md): server components that
// render the whole history — filters are a GET form, pages are links, so the first render works with scripts
// blocked — and small client islands for the frame (title, height, session renewal), local times, export and revert.
export interface PlacementProps {
  view: HistoryView;
  t: Dict;
  lang: "en" | "ru";
  token: string;
  tokenExpiresAt: number;
}

export function url(base: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  return `${base}?${q.toString()}`;
}

/** A merged change says so instead of passing for one edit (docs/history.md "Merged edits"). */
function When({ r, t, lang }: { r: ChangeSet; t: Dict; lang: string }) {
  const at = <LocalTime iso={r.changedAtIso} text={r.changedAt} lang={lang} />;
  if (!r.mergedFrom) return at;
  const fill: Record<string, string> = { from: r.mergedFrom, to: r.changedAt, who: r.who };
  const text = t.mergedBetween.replace(/\{(from|to|who)\}/g, (_, k: string) => fill[k]!);
  return (
    <>
      {at}
      <br />
      <small className="merged" data-merged-from={r.mergedFromIso ?? ""}>
        {text}
      </small>
    </>
  );
}

/** A value's parts: a long text's removed / added words marked, a file by name with the portal's link. */
function Value({ text, parts }: { text: string; parts: ValuePart[] | undefined }) {
  if (!parts) return <>{text}</>;
  return (
    <>
      {parts.map((p, i) =>
        p.href ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer">
            {p.text}
          </a>
        ) : p.mark === "del" ? (
          <del key={i}>{p.text}</del>
        ) : p.mark === "ins" ? (
          <ins key={i}>{p.text}</ins>
        ) : (
          p.text
        ),
      )}
    </>
  );
}

/** One change set: its moment and author once, its fields one row each, each with its own revert. */
function SetRows({ set, t, lang, canRevert }: { set: ChangeSet; t: Dict; lang: string; canRevert: boolean }) {
  const span = set.rows.length > 1 ? set.rows.length : undefined;
  return (
    <tbody className={span ? "set multi" : "set"}>
      {set.rows.map((r, i) => (
        <tr key={r.id}>
          {i === 0 ? (
            <td data-label={t.when} rowSpan={span} className="when">
              <When r={set} t={t} lang={lang} />
            </td>
          ) : null}
          <td data-label={t.field} className="field">
            {r.field}
          </td>
          {i === 0 ? (
            <td data-label={t.who} rowSpan={span}>
              {set.who}
              {set.source === "revert" ? (
                <>
                  {" "}
                  <span className="tag tag-revert">{t.revertEntry}</span>
                </>
              ) : null}
            </td>
          ) : null}
          <Cells r={r} t={t} canRevert={canRevert} />
        </tr>
      ))}
    </tbody>
  );
}

function Cells({ r, t, canRevert }: { r: HistoryRow; t: Dict; canRevert: boolean }) {
  return (
    <>
      <td data-label={t.oldValue} className="old">
        <Value text={r.oldValue} parts={r.oldParts} />
      </td>
      <td data-label={t.newValue} className="new">
        <Value text={r.newValue} parts={r.newParts} />
      </td>
      {canRevert ? (
        <td className="act">
          {r.reverted ? (
            <span className="tag tag-reverted" data-reverted="">
              {t.reverted}
            </span>
          ) : r.revertible ? (
            <RevertButton id={r.id} field={r.field} t={revertText(t)} />
          ) : null}
        </td>
      ) : null}
    </>
  );
}

export const revertText = (t: Dict) => ({
  revert: t.revert,
  revertConfirm: t.revertConfirm,
  revertTitle: t.revertTitle,
  overwriteConfirm: t.overwriteConfirm,
  pending: t.pending,
  cancel: t.cancel,
});

export function HistoryTable({
  rows,
  t,
  lang,
  canRevert,
}: {
  rows: HistoryRow[];
  t: Dict;
  lang: string;
  canRevert: boolean;
}) {
  if (!rows.length) return <p className="empty">{t.noChanges}</p>;
  return (
    <div className="grid-wrap">
      <table className="grid">
        <caption className="sr-only">{t.history}</caption>
        <thead>
          <tr>
            <th scope="col">{t.when}</th>
            <th scope="col">{t.field}</th>
            <th scope="col">{t.who}</th>
            <th scope="col">{t.oldValue}</th>
            <th scope="col">{t.newValue}</th>
            {canRevert ? (
              <th scope="col">
                <span className="sr-only">{t.revert}</span>
              </th>
            ) : null}
          </tr>
        </thead>
        {groupChangeSets(rows).map((s) => (
          <SetRows key={s.key} set={s} t={t} lang={lang} canRevert={canRevert} />
        ))}
      </table>
    </div>
  );
}

const SOURCE_LABELS = [
  ["user", "sourceUser"],
  ["revert", "sourceRevert"],
  ["reconciled", "sourceReconciled"],
  ["stagehistory", "sourceStagehistory"],
] as const;

/** One filter of the tab: a labelled select whose first choice is "all". */
function FilterSelect(p: {
  name: string;
  label: string;
  all: string;
  value?: string | number | null;
  options: { value: string | number; label: string }[];
}) {
  return (
    <label className="ctl">
      <span>{p.label}</span>
      <select name={p.name} defaultValue={p.value ?? ""}>
        <option value="">{p.all}</option>
        {p.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function Filters({ view, t, token, base }: { view: HistoryView; t: Dict; token: string; base: string }) {
  const q = view.query;
  return (
    <form className="filters" method="get" action={base} role="search" aria-label={t.filters}>
      <input type="hidden" name="st" value={token} />
      <input type="hidden" name="entity" value={q.entity} />
      <input type="hidden" name="id" value={q.id} />
      <FilterSelect name="field" label={t.field} all={t.allFields} value={q.field} options={view.fields} />
      <FilterSelect name="user" label={t.who} all={t.allUsers} value={q.user} options={view.users} />
      <FilterSelect
        name="source"
        label={t.source}
        all={t.allSources}
        value={q.source}
        options={SOURCE_LABELS.map(([value, label]) => ({ value, label: t[label] }))}
      />
      <label className="ctl">
        <span>{t.periodFrom}</span>
        <input type="date" name="from" defaultValue={q.from ?? ""} />
      </label>
      <label className="ctl">
        <span>{t.periodTo}</span>
        <input type="date" name="to" defaultValue={q.to ?? ""} />
      </label>
      <button type="submit" className="btn btn-light">
        {t.apply}
      </button>
      {q.field || q.user || q.source || q.from || q.to ? (
        <a className="reset" data-nav href={url(base, { st: token, entity: q.entity, id: q.id })}>
          {t.reset}
        </a>
      ) : null}
    </form>
  );
}

/** "Deal #9 · Website relaunch": the record by its type in the user's language, its id and its title. */
function RecordName({ view }: { view: HistoryView }) {
  const { type, title } = view.record;
  return (
    <>
      <span className="rec-type">
        {type} #{view.query.id}
      </span>
      {title ? (
        <>
          {" "}
          · <strong className="rec-title">{title}</strong>
        </>
      ) : null}
    </>
  );
}

export function pageTitle(view: HistoryView, t: Dict): string {
  const record = `${view.record.type} #${view.query.id}`;
  return `${t.history} — ${view.record.title ? `${view.record.title} (${record})` : record}`;
}

function Page({
  mode,
  title,
  p,
  children,
}: {
  mode: "tab" | "widget";
  title: string;
  p: PlacementProps;
  children: ReactNode;
}) {
  return (
    <main className="page" data-mode={mode} lang={p.lang}>
      <title>{title}</title>
      <PlacementFrame
        title={title}
        token={p.token}
        expiresAt={p.tokenExpiresAt}
        record={{ entity: p.view.query.entity, id: p.view.query.id }}
      />
      {children}
    </main>
  );
}

/** An edit saved moments ago whose event still waits in the inbox: said so, instead of "no changes yet". */
function Updating({ view, t }: { view: HistoryView; t: Dict }) {
  return view.updating ? (
    <p className="notice updating" role="status" data-updating="">
      {t.updating}
    </p>
  ) : null;
}

export function HistoryTab(p: PlacementProps) {
  const { view: v, t } = p;
  const q = v.query;
  const base = "/placements/tab";
  const keep = {
    st: p.token,
    entity: q.entity,
    id: q.id,
    field: q.field,
    user: q.user,
    source: q.source,
    from: q.from,
    to: q.to,
  };
  return (
    <Page mode="tab" title={pageTitle(v, t)} p={p}>
      <header className="head">
        <h1>{t.history}</h1>
        <p className="sub">
          <RecordName view={v} /> · <span data-total="">{v.total}</span> {plural(p.lang, v.total, t.changesCount)}
        </p>
      </header>
      <div className="bar">
        <Filters view={v} t={t} token={p.token} base={base} />
        <div className="actions">
          <ExportButton entity={q.entity} id={q.id} text={{ exportCsv: t.exportCsv, exported: t.exported }} />
          <StatusLine />
        </div>
      </div>
      <NotifyMeFor view={v} t={t} />
      {q.done === "revert" ? (
        <p className="notice ok" role="status" data-done="">
          {t.revertDone}
        </p>
      ) : null}
      <Updating view={v} t={t} />
      {v.rows.length || !v.updating ? <HistoryTable rows={v.rows} t={t} lang={p.lang} canRevert /> : null}
      <ConfirmHost />
      {q.cursor || v.next ? (
        <nav className="pager" aria-label={t.pages}>
          {q.cursor ? (
            <a data-nav href={url(base, keep)}>
              ← {t.newest}
            </a>
          ) : null}
          {v.next ? (
            <a data-nav rel="next" href={url(base, { ...keep, cursor: v.next })}>
              {t.older} →
            </a>
          ) : null}
        </nav>
      ) : null}
    </Page>
  );
}

export function HistoryWidget(p: PlacementProps) {
  const { view: v, t } = p;
  return (
    <Page mode="widget" title={t.recentChanges} p={p}>
      <header className="head">
        <h1>{t.recentChanges}</h1>
        <p className="sub">
          <RecordName view={v} /> · {`${v.total} ${plural(p.lang, v.total, t.changesCount)}`}
        </p>
      </header>
      <Updating view={v} t={t} />
      {v.rows.length || !v.updating ? <HistoryTable rows={v.rows} t={t} lang={p.lang} canRevert={false} /> : null}
      <p className="more">
        <a data-nav href={url("/placements/tab", { st: p.token, entity: v.query.entity, id: v.query.id })}>
          {t.fullHistory} →
        </a>
      </p>
    </Page>
  );
}

/** A page that cannot show the history (no such record, no right to it, a malformed address): says why, in the fitted frame. */
export function PlacementNotice({ text, title, lang }: { text: string; title: string; lang: string }) {
  return (
    <main className="page" lang={lang}>
      <FrameFit title={title} />
      <p className="notice" role="alert">
        {text}
      </p>
    </main>
  );
}
