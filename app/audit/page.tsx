import type { ReactNode } from "react";
import { adminPageGate } from "@/components/admin/admin-gate";
import styles from "@/components/admin/admin.module.css";
import audit from "@/components/audit/audit.module.css";
import { ExportButtons } from "@/components/audit/export-buttons";
import { OpenRecord } from "@/components/audit/open-record";
import { FrameSetup } from "@/components/frame/frame-setup";
import { Card, Table } from "@/components/ui/ui";
import { AUDIT_SOURCES, loadAuditView, parseAuditQuery, type AuditQuery } from "@/lib/history/audit";
import { entityTypeIdOf, isItemType } from "@/lib/history/entity-types";
import { AppError } from "@/lib/http-errors";
import { typeName, type Dict } from "@/lib/i18n";

export const dynamic = "force-dynamic";

type Params = Record<string, string | string[] | undefined>;

/** A link on this page: the session's hand-off token kept (cookie-less iframes), empty filters left out. */
function href(path: string, token: string, params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams({ st: token });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, String(v));
  return `${path}?${u}`;
}

function typeLabel(t: Dict, key: string): string {
  const dynamicId = isItemType(key) && key.startsWith("dynamic_") ? entityTypeIdOf(key) : undefined;
  return dynamicId ? `${typeName(t, key)} ${dynamicId}` : typeName(t, key);
}

/** A label above its control, tied by id (the control's accessible name is the label alone). */
function Labelled({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <div className={audit.field}>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

function Filters({
  t,
  token,
  q,
  people,
  types,
}: {
  t: Dict;
  token: string;
  q: AuditQuery;
  people: { id: number; name: string }[];
  types: string[];
}) {
  const sourceNames = t.auditSourceNames.split("|");
  return (
    <form method="get" action="/audit" className={audit.filters} role="search" aria-label={t.filters}>
      <input type="hidden" name="st" value={token} />
      <Labelled id="audit-person" label={t.auditPerson}>
        <select id="audit-person" name="person" defaultValue={q.person ?? ""}>
          <option value="">{t.allUsers}</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </Labelled>
      <Labelled id="audit-field" label={t.field}>
        <input id="audit-field" name="field" defaultValue={q.field ?? ""} placeholder={t.auditFieldCode} />
      </Labelled>
      <Labelled id="audit-type" label={t.auditType}>
        <select id="audit-type" name="type" defaultValue={q.type ?? ""}>
          <option value="">{t.auditAnyType}</option>
          {types.map((k) => (
            <option key={k} value={k}>
              {typeLabel(t, k)}
            </option>
          ))}
        </select>
      </Labelled>
      <Labelled id="audit-record" label={t.auditRecordId}>
        <input id="audit-record" name="record" inputMode="numeric" defaultValue={q.record ?? ""} />
      </Labelled>
      <Labelled id="audit-from" label={t.auditFrom}>
        <input id="audit-from" type="date" name="from" defaultValue={q.from ?? ""} />
      </Labelled>
      <Labelled id="audit-to" label={t.auditTo}>
        <input id="audit-to" type="date" name="to" defaultValue={q.to ?? ""} />
      </Labelled>
      <Labelled id="audit-source" label={t.auditSource}>
        <select id="audit-source" name="source" defaultValue={q.source ?? ""}>
          <option value="">{t.auditAnySource}</option>
          {AUDIT_SOURCES.map((s, i) => (
            <option key={s} value={s}>
              {sourceNames[i] ?? s}
            </option>
          ))}
        </select>
      </Labelled>
      <button type="submit" className={styles.primary}>
        {t.auditSearch}
      </button>
    </form>
  );
}

// The admins' Audit page, linked from the settings page: every change of the portal by person, field, type, record,
// period and source (lib/history/audit.ts); each result opens its record's card in the portal (components/audit).
export default async function AuditPage({ searchParams }: { searchParams: Promise<Params> }) {
  const params = await searchParams;
  const gate = await adminPageGate(typeof params.st === "string" ? params.st : undefined);
  if ("page" in gate) return gate.page;
  const { session, token, t } = gate;
  let query: AuditQuery = {};
  let problem: string | null = null;
  try {
    query = parseAuditQuery(params);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    problem = e.message;
  }
  const view = await loadAuditView(session.portalId, query, session.lang);
  const sourceNames = t.auditSourceNames.split("|");
  const { cursor: _cursor, ...filters } = query;
  const rows = view.rows.map((r) => [
    <span key="at" className={audit.nowrap}>
      {r.changedAt}
    </span>,
    r.who,
    <OpenRecord key="rec" path={r.path} href={href("/placements/tab", token, { entity: r.entityType, id: r.entityId })}>
      {typeLabel(t, r.entityType)} #{r.entityId}
    </OpenRecord>,
    r.field,
    <span key="v" className={audit.values}>
      {r.oldValue} → {r.newValue}
    </span>,
    sourceNames[AUDIT_SOURCES.indexOf(r.source as (typeof AUDIT_SOURCES)[number])] ?? r.source,
  ]);
  return (
    <main className={styles.page} lang={session.lang}>
      <FrameSetup title={t.auditTitle} token={token} />
      <div className={styles.header}>
        <h1 className={styles.title}>{t.auditTitle}</h1>
        <a href={href("/admin", token, {})}>{t.backToSettings}</a>
      </div>
      {problem && (
        <p role="alert" className={styles.notice}>
          {problem}
        </p>
      )}
      <Card title={t.filters}>
        <Filters t={t} token={token} q={query} people={view.people} types={view.types} />
        <p className={styles.muted}>{t.auditUtc}</p>
        {!problem && <ExportButtons filters={filters} text={t.exportButtons} />}
      </Card>
      <Card title={t.auditResults} id="results">
        {rows.length === 0 ? (
          <p className={styles.muted}>{t.auditNone}</p>
        ) : (
          <div className={audit.results}>
            <Table
              rows={rows}
              head={[t.when, t.who, t.record, t.field, `${t.oldValue} → ${t.newValue}`, t.auditSource]}
            />
          </div>
        )}
        <nav className={audit.paging} aria-label={t.pages}>
          {query.cursor && <a href={href("/audit", token, filters)}>{t.auditFirst}</a>}
          {view.next && <a href={href("/audit", token, { ...filters, cursor: view.next })}>{t.auditOlder}</a>}
        </nav>
      </Card>
    </main>
  );
}
