import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { fileValue, uploadFormFor } from "@/lib/bitrix/upload";
import { queryHistory } from "@/lib/history/query";
import { presentChanges } from "@/lib/history/present";
import { dict } from "@/lib/i18n";

// "Attach history as CSV": RFC 4180, UTF-8 with a BOM (Excel opens it right), cells that a spreadsheet would run as a
// formula (= + - @, tab, CR) prefixed with ' — the file leaves our hands and is opened by people.
const TYPE_IDS: Record<string, string> = { lead: "lead", deal: "deal", contact: "contact", company: "company" };

export function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
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

/** Puts the CSV on the record's timeline (crm.timeline.comment.add takes FILES as [name, base64] pairs). */
export async function attachHistoryCsv(portalId: string, entityType: string, entityId: number, lang: string) {
  const file = await buildHistoryCsv(portalId, entityType, entityId, lang);
  const method = "crm.timeline.comment.add";
  const client = await bitrixFor(portalId);
  const form = uploadFormFor({ method });
  const res = await client.call<number>(method, {
    fields: { ENTITY_ID: entityId, ENTITY_TYPE: TYPE_IDS[entityType], COMMENT: dict(lang).history, FILES: [fileValue(form === "disk" ? "pair" : form, file)] },
  }, { lane: "interactive" });
  return { commentId: res.result, rows: file.rows, name: file.name };
}
