import "server-only";
import type { PortalSession } from "@/lib/auth/session";
import { requireRecordAccess, userCaller } from "@/lib/auth/user-rights";
import { bitrixFor, isAccessDenied } from "@/lib/bitrix";
import { attachFile, type FileTarget } from "@/lib/bitrix/upload";
import { AppError } from "@/lib/http-errors";
import type { BitrixCaller } from "@/lib/bitrix/contract";
import { asList, type FieldMetaLite } from "@/lib/history/diff";
import { getFieldMeta } from "@/lib/history/fields";
import { entityTypeIdOf, isItemType, type EntityKey } from "@/lib/history/entity-types";
import { recordAdapter } from "@/lib/history/items";
import type { LegacyFieldMeta } from "@/lib/history/legacy-items";
import { countHistory, queryHistory } from "@/lib/history/query";
import { presentChanges, type HistoryRow } from "@/lib/history/present";
import { dict, type Dict } from "@/lib/i18n";

// "Attach history as CSV": RFC 4180, UTF-8 with a BOM (Excel opens it right), cells that a spreadsheet would run as a
// formula (= + - @, tab, CR) prefixed with ' — the file leaves our hands and is opened by people.

// Every cell is quoted, and a formula start is neutralized (prefixed with ') at the cell's start AND after every `;`
// and `,`: Excel in locales whose list separator is `;` (Russian, German...) splits a line on `;` before it looks
// at quotes, so `"x;=1+1"` would run `=1+1` there. Quotes and blanks between the separator and the formula count too.
const FORMULA_START = /(^|[;,])(["\s]*)([=+\-@\t\r])/g;
export function csvCell(v: string): string {
  return `"${v.replace(FORMULA_START, "$1$2'$3").replace(/"/g, '""')}"`;
}

export function toCsv(header: string[], rows: string[][]): string {
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

/**
 * The record CSV's nine columns: the first five read as the tab does (names, money, Yes/No, local times); the last
 * four are for machines: the instant in ISO 8601 UTC, the field's code and the values as stored. The portal-wide
 * export (lib/history/audit-export.ts) starts with the same nine.
 */
export const changeCsvHeader = (t: Dict) => [
  t.when,
  t.field,
  t.who,
  t.oldValue,
  t.newValue,
  "changedAt",
  "fieldCode",
  "oldRaw",
  "newRaw",
];
export const changeCsvCells = (r: HistoryRow) => [
  r.changedAt,
  r.field,
  r.who,
  r.oldValue,
  r.newValue,
  r.changedAtIso,
  r.fieldCode,
  r.oldRaw,
  r.newRaw,
];

/** Rows per CSV file: a record with more changes gets several files (part 1 of N …), never a silently cut one. */
export const CSV_LIMITS = { partRows: 50_000 };

type CsvFile = { name: string; content: Uint8Array; rows: number };

/**
 * The record's whole history as CSV files of at most CSV_LIMITS.partRows rows, newest first, built a page at a time
 * (one file in memory at once). One file is `history-<type>-<id>.csv`; several are `…-part-<k>-of-<n>.csv`.
 */
export async function* historyCsvParts(
  portalId: string,
  entityType: string,
  entityId: number,
  lang: string,
  timeZone?: string,
  partRows = CSV_LIMITS.partRows,
): AsyncGenerator<CsvFile & { part: number; parts: number; total: number }> {
  const t = dict(lang);
  const total = await countHistory(portalId, { entityType, entityId });
  const parts = Math.max(1, Math.ceil(total / partRows));
  const header = changeCsvHeader(t);
  const base = `history-${entityType}-${entityId}`;
  let lines: string[][] = [];
  let part = 1;
  const file = () => ({
    name: parts === 1 ? `${base}.csv` : `${base}-part-${part}-of-${parts}.csv`,
    content: new TextEncoder().encode(toCsv(header, lines)),
    rows: lines.length,
    part,
    parts,
    total,
  });
  let cursor: string | undefined;
  do {
    const page = await queryHistory(portalId, { entityType, entityId, cursor, limit: 200 });
    const rows = await presentChanges(portalId, entityType, page.items, lang, timeZone); // the exporting user's zone
    for (const r of rows) {
      lines.push(changeCsvCells(r));
      if (lines.length === partRows && part < parts) {
        yield file();
        lines = [];
        part++;
      }
    }
    cursor = page.next ?? undefined;
  } while (cursor);
  yield file();
}

/** The record's history as one CSV (all of it, however long: for tests and small records). */
export async function buildHistoryCsv(
  portalId: string,
  entityType: string,
  entityId: number,
  lang: string,
  timeZone?: string,
): Promise<CsvFile> {
  for await (const f of historyCsvParts(portalId, entityType, entityId, lang, timeZone, Number.MAX_SAFE_INTEGER))
    return f;
  throw new Error("unreachable: historyCsvParts yields at least one file");
}

/**
 * A multiple file field's current files as `{id}`, the form that keeps them on crm.item.update, which deletes the files
 * not passed (b24restdocs api-reference/files/how-to-update-files.md). crm.item.get answers each as
 * {id, url, urlMachine}: only the id goes back (urlMachine carries a token and is never kept or logged).
 */
export function keepValues(current: unknown): { id: number }[] {
  return asList(current)
    .map((v) => {
      const o = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
      return { id: Number(o ? (o.id ?? o.ID) : v) };
    })
    .filter((v) => Number.isInteger(v.id) && v.id > 0);
}

/**
 * A file field's current value, read with crm.item.get as the writer (crm/universal/crm-item-get.md): the legacy four
 * with useOriginalUfNames "Y" and put back under their legacy keys (lib/history/items.ts recordAdapter), as
 * lib/history/revert.ts reads a field before writing it.
 */
async function currentFiles(
  caller: BitrixCaller,
  entityType: string,
  entityId: number,
  field: string,
  meta: Record<string, FieldMetaLite>,
): Promise<unknown> {
  const params = {
    entityTypeId: entityTypeIdOf(entityType),
    id: entityId,
    ...(isItemType(entityType) ? {} : { useOriginalUfNames: "Y" }),
  };
  const item = (await caller.call<{ item?: Record<string, unknown> }>("crm.item.get", params)).result?.item ?? {};
  return (isItemType(entityType) ? item : recordAdapter(entityType as EntityKey, meta)(item))[field];
}

/**
 * Puts the CSV on the record: on its timeline (a comment with the file, [name, base64]), or — when `field` names one
 * of the record's file fields — into that field with crm.item.update, for every CRM type (lib/bitrix/upload.ts).
 * Only on a record the user may read, and written with the user's own token: Bitrix24 applies their role to the write.
 * A multiple file field gets the CSV added to the files it has. The form is chosen by lib/bitrix/upload.ts.
 */
export async function attachHistoryCsv(
  session: PortalSession,
  entityType: string,
  entityId: number,
  field?: string,
  timeZone?: string,
) {
  const { portalId, lang } = session;
  await requireRecordAccess(session, entityType, entityId);
  // A quote's, an invoice's or a smart-process item's timeline takes the type's name as ENTITY_TYPE: QUOTE,
  // SMART_INVOICE, DYNAMIC_<entityTypeId> (b24restdocs
  // tutorials/crm/how-to-add-crm-objects/how-to-add-comment-to-spa.md; core crm_owner_type.php ResolveID
  // upper-cases it, so our keys go as they are).
  const caller = await userCaller(session);
  let target: FileTarget = { kind: "timeline", entityType, entityId, comment: dict(lang).history };
  const fieldsMeta = field ? await getFieldMeta(portalId, entityType, await bitrixFor(portalId)) : {};
  if (field) {
    // CRM file fields are all of type "file" ("There are no 'file (Drive)' type fields in the CRM",
    // b24restdocs api-reference/files/how-to-update-files.md)
    const meta = fieldsMeta[field] as LegacyFieldMeta | undefined;
    if (!meta || meta.type !== "file")
      throw new AppError(400, "invalid_request", `${field} is not a file field of this ${entityType}`);
    const keep = meta.isMultiple
      ? keepValues(await currentFiles(caller, entityType, entityId, field, fieldsMeta))
      : undefined;
    // an item type's history keys are its crm.item names; a legacy type's are its legacy keys, written under the
    // item name the field meta gives (custom fields: UF_CRM_… with useOriginalUfNames "Y", as revert.ts writes)
    target = {
      kind: "field",
      entityTypeId: entityTypeIdOf(entityType)!,
      entityId,
      field: isItemType(entityType) ? field : (meta.itemName ?? field),
      originalUfNames: !isItemType(entityType),
      multiple: meta.isMultiple,
      keep,
    };
  }
  // A long history goes in several files; a single-file field cannot take them, which is said before any upload.
  const total = await countHistory(portalId, { entityType, entityId });
  if (target.kind === "field" && !target.multiple && total > CSV_LIMITS.partRows) {
    throw new AppError(
      400,
      "too_many_rows",
      `${total} changes make ${Math.ceil(total / CSV_LIMITS.partRows)} files of ` +
        `${CSV_LIMITS.partRows} rows: attach them to the timeline or to a multiple file field`,
    );
  }
  const names: string[] = [];
  let rows = 0;
  let last: Awaited<ReturnType<typeof attachFile>> | null = null;
  try {
    for await (const file of historyCsvParts(portalId, entityType, entityId, lang, timeZone)) {
      // a multiple field keeps what it had, the earlier parts included (crm.item.update deletes the files not passed)
      const partTarget: FileTarget =
        target.kind === "field" && target.multiple && names.length
          ? { ...target, keep: keepValues(await currentFiles(caller, entityType, entityId, field!, fieldsMeta)) }
          : target.kind === "timeline" && file.parts > 1
            ? { ...target, comment: `${dict(lang).history} (${file.part}/${file.parts})` }
            : target;
      last = await attachFile(caller, partTarget, file);
      names.push(file.name);
      rows += file.rows;
    }
  } catch (e) {
    // the tab's status line shows this message as it is: in the user's language
    if (isAccessDenied(e)) throw new AppError(403, "forbidden", dict(lang).exportDenied);
    throw e;
  }
  return {
    attachedTo: field ?? "timeline",
    form: last!.form,
    result: last!.result,
    rows,
    name: names[0]!,
    files: names,
  };
}
