import "server-only";
import type { PortalSession } from "@/lib/auth/session";
import { requireRecordAccess, userCaller } from "@/lib/auth/user-rights";
import { bitrixFor, isAccessDenied } from "@/lib/bitrix";
import { attachFile, type FileTarget } from "@/lib/bitrix/upload";
import { AppError } from "@/lib/http-errors";
import { asList } from "@/lib/history/diff";
import { getFieldMeta } from "@/lib/history/fields";
import { isItemType } from "@/lib/history/entity-types";
import { queryHistory } from "@/lib/history/query";
import { presentChanges } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

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

export async function buildHistoryCsv(portalId: string, entityType: string, entityId: number, lang: string,
  timeZone?: string): Promise<{ name: string; content: Uint8Array; rows: number }> {
  const t = dict(lang);
  const all = [];
  let cursor: string | undefined;
  do {
    const page = await queryHistory(portalId, { entityType, entityId, cursor, limit: 200 });
    all.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor && all.length < 50_000);
  const rows = await presentChanges(portalId, entityType, all, lang, timeZone); // times in the exporting user's zone
  // The first five columns read as the tab does (names, money, Yes/No, local times); the last four are for
  // machines: the instant in ISO 8601 UTC, the field's code and the values as stored.
  const header = [t.when, t.field, t.who, t.oldValue, t.newValue, "changedAt", "fieldCode", "oldRaw", "newRaw"];
  const csv = toCsv(header, rows.map((r) => [r.changedAt, r.field, r.who, r.oldValue, r.newValue, r.changedAtIso,
    r.fieldCode, r.oldRaw, r.newRaw]));
  return { name: `history-${entityType}-${entityId}.csv`, content: new TextEncoder().encode(csv), rows: rows.length };
}

/** A multiple file field's current values in the form that keeps them on update (Bitrix24 replaces the whole set). */
export function keepValues(fieldType: string, current: unknown): unknown[] {
  return asList(current).map((v) => {
    if (fieldType === "disk_file") return v; // attached-object ids, passed back as they are
    const id = typeof v === "object" && v !== null ? (v as Record<string, unknown>).id ?? (v as Record<string, unknown>).ID : v;
    return { id: Number(id) };
  }).filter((v) => !(typeof v === "object" && v !== null && "id" in v && !Number.isInteger((v as { id: number }).id)));
}

/**
 * Puts the CSV on the record: on its timeline (a comment with the file, [name, base64]), or — when `field` names one
 * of the record's file fields — into that field ({fileData} for a CRM file field, Drive-first for a Drive field).
 * Only on a record the user may read, and written with the user's own token: Bitrix24 applies their role to the write.
 * A multiple file field gets the CSV added to the files it has. The form is chosen by lib/bitrix/upload.ts.
 */
export async function attachHistoryCsv(session: PortalSession, entityType: string, entityId: number, field?: string,
  timeZone?: string) {
  const { portalId, lang } = session;
  await requireRecordAccess(session, entityType, entityId);
  // A quote's, an invoice's or a smart-process item's timeline takes the type's name as ENTITY_TYPE: QUOTE,
  // SMART_INVOICE, DYNAMIC_<entityTypeId> (b24restdocs
  // tutorials/crm/how-to-add-crm-objects/how-to-add-comment-to-spa.md; core crm_owner_type.php ResolveID
  // upper-cases it, so our keys go as they are). Their file fields (crm.item.update) are not built yet: said plainly
  // instead of a half-written file.
  if (isItemType(entityType) && field) {
    throw new AppError(400, "not_supported",
      "A quote's, invoice's or smart-process item's history is attached to its timeline only");
  }
  const caller = await userCaller(session);
  let target: FileTarget = { kind: "timeline", entityType, entityId, comment: dict(lang).history };
  if (field) {
    const meta = (await getFieldMeta(portalId, entityType, await bitrixFor(portalId)))[field];
    if (!meta || !["file", "disk_file"].includes(meta.type)) throw new AppError(400, "invalid_request", `${field} is not a file field of this ${entityType}`);
    const keep = meta.isMultiple
      ? keepValues(meta.type, (await caller.call<Record<string, unknown>>(`crm.${entityType}.get`, { id: entityId })).result?.[field])
      : undefined;
    target = { kind: "field", entityType, entityId, field, fieldType: meta.type, multiple: meta.isMultiple, keep };
  }
  const file = await buildHistoryCsv(portalId, entityType, entityId, lang, timeZone);
  try {
    const { form, result } = await attachFile(caller, target, file);
    return { attachedTo: field ?? "timeline", form, result, rows: file.rows, name: file.name };
  } catch (e) {
    // the tab's status line shows this message as it is: in the user's language
    if (isAccessDenied(e)) throw new AppError(403, "forbidden", dict(lang).exportDenied);
    throw e;
  }
}
