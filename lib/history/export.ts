import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { attachFile, type FileTarget } from "@/lib/bitrix/upload";
import { AppError } from "@/lib/http-errors";
import { getFieldMeta } from "@/lib/history/fields";
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

export async function buildHistoryCsv(portalId: string, entityType: string, entityId: number, lang: string): Promise<{ name: string; content: Uint8Array; rows: number }> {
  const t = dict(lang);
  const all = [];
  let cursor: string | undefined;
  do {
    const page = await queryHistory(portalId, { entityType, entityId, cursor, limit: 200 });
    all.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor && all.length < 50_000);
  const rows = await presentChanges(portalId, entityType, all, lang);
  const csv = toCsv([t.when, t.field, t.who, t.oldValue, t.newValue], rows.map((r) => [r.changedAt, r.field, r.who, r.oldValue, r.newValue]));
  return { name: `history-${entityType}-${entityId}.csv`, content: new TextEncoder().encode(csv), rows: rows.length };
}

/**
 * Puts the CSV on the record: on its timeline (a comment with the file, [name, base64]), or — when `field` names one
 * of the record's file fields — into that field ({fileData} for a CRM file field, Drive-first for a Drive field).
 * The form is chosen by the one upload module (lib/bitrix/upload.ts) from the target.
 */
export async function attachHistoryCsv(portalId: string, entityType: string, entityId: number, lang: string, field?: string) {
  const file = await buildHistoryCsv(portalId, entityType, entityId, lang);
  const client = await bitrixFor(portalId);
  let target: FileTarget = { kind: "timeline", entityType, entityId, comment: dict(lang).history };
  if (field) {
    const meta = (await getFieldMeta(portalId, entityType, client))[field];
    if (!meta || !["file", "disk_file"].includes(meta.type)) throw new AppError(400, "invalid_request", `${field} is not a file field of this ${entityType}`);
    target = { kind: "field", entityType, entityId, field, fieldType: meta.type, multiple: meta.isMultiple };
  }
  const { form, result } = await attachFile(client, target, file);
  return { attachedTo: field ?? "timeline", form, result, rows: file.rows, name: file.name };
}
