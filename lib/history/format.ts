// Field values as Bitrix24 shows them, one pure function per kind of value: money in its currency, Yes/No, dates in
// the user's locale (date-time values in the user's time zone, date-only values never shifted), users and linked CRM
// records by name, files by name with their link, long texts as a word-level diff. No I/O: the caller (present.ts)
// brings the names it read. A value is text for the CSV, and optional parts (marked words, links) for the tab.

import { wordDiff } from "@/lib/history/word-diff";

/** One piece of a value on the page: plain text, a deleted or inserted run of words, or a link. */
export interface ValuePart {
  text: string;
  mark?: "del" | "ins";
  href?: string;
}

export interface FormattedValue {
  text: string;
  parts?: ValuePart[];
}

export type Lang = "en" | "ru";
export const localeOf = (lang: string) => (lang === "ru" ? "ru-RU" : "en-GB");

const EMPTY = "—";
const isEmpty = (v: unknown) => v === null || v === undefined || v === "";

// One formatter per locale and options: building an Intl formatter costs far more than using one (an export formats
// thousands of values).
const NUMBER_FORMATS = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string, currency?: string): Intl.NumberFormat {
  const key = `${locale}|${currency ?? ""}`;
  let f = NUMBER_FORMATS.get(key);
  if (!f) {
    f = currency
      ? new Intl.NumberFormat(locale, { style: "currency", currency })
      : new Intl.NumberFormat(locale, { maximumFractionDigits: 20 });
    NUMBER_FORMATS.set(key, f);
  }
  return f;
}

/**
 * An amount in its currency: a `money` custom field's "1002|USD" (b24restdocs crm/data-types.md: money is
 * "amount|currency"), or a number with the record's CURRENCY_ID. A currency code Intl does not know keeps its code.
 */
export function formatMoney(value: unknown, lang: string, currency?: string): string {
  if (isEmpty(value)) return EMPTY;
  const [amountText, code] =
    typeof value === "string" && value.includes("|") ? value.split("|", 2) : [String(value), currency];
  const amount = Number(amountText);
  if (amountText === "" || !Number.isFinite(amount)) return String(value);
  const cur = code && /^[A-Za-z]{3}$/.test(code) ? code.toUpperCase() : undefined;
  try {
    return numberFormat(localeOf(lang), cur).format(amount);
  } catch {
    return `${numberFormat(localeOf(lang)).format(amount)}${code ? ` ${code}` : ""}`;
  }
}

/** A plain number (double, integer) in the user's locale: 1 002,5 in Russian, 1,002.5 in English. */
export function formatNumber(value: unknown, lang: string): string {
  if (isEmpty(value)) return EMPTY;
  const n = Number(value);
  return typeof value !== "boolean" && Number.isFinite(n) ? numberFormat(localeOf(lang)).format(n) : String(value);
}

const TRUE = new Set(["Y", "1", "true", "y"]);
const FALSE = new Set(["N", "0", "false", "n"]);
/**
 * Bitrix24 booleans: a `boolean` custom field is "1"/"0" through crm.<entity>.* and "Y"/"N" through crm.item.*
 * (crm/universal/index.md), a `char` flag (OPENED) "Y"/"N". Anything else is shown as it is.
 */
export function formatBoolean(value: unknown, words: { yes: string; no: string }): string {
  if (isEmpty(value)) return EMPTY;
  const s = String(value);
  return value === true || TRUE.has(s) ? words.yes : value === false || FALSE.has(s) ? words.no : s;
}

const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();
function dateFormat(locale: string, timeZone: string | undefined, withTime: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone ?? ""}|${withTime}`;
  let f = DATE_FORMATS.get(key);
  if (!f) {
    const day = { year: "numeric", month: "2-digit", day: "2-digit" } as const;
    const time = { hour: "2-digit", minute: "2-digit", second: "2-digit" } as const;
    f = new Intl.DateTimeFormat(
      locale,
      withTime
        ? { timeZone: timeZone ?? "UTC", ...day, ...time, ...(timeZone ? {} : { timeZoneName: "short" }) }
        : { timeZone: "UTC", ...day },
    );
    DATE_FORMATS.set(key, f);
  }
  return f;
}

/** An instant in the user's zone and locale; without a zone in UTC, and says so ("… UTC"). */
export function formatInstant(d: Date, lang: string, timeZone?: string): string {
  return dateFormat(localeOf(lang), timeZone, true).format(d);
}

/**
 * A `date` value: a calendar day, not an instant — "2026-12-31" (crm.<entity>.*) or "2026-12-31T00:00:00+03:00"
 * (crm.item.* writes dates at the portal's midnight). Its day is shown as written, in no time zone.
 */
export function formatDay(value: unknown, lang: string): string {
  if (isEmpty(value)) return EMPTY;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(String(value));
  if (!m) return String(value);
  return dateFormat(localeOf(lang), undefined, false).format(new Date(`${m[1]}T00:00:00Z`));
}

/** A `datetime` value ("2026-11-30T10:02:00+03:00", ISO 8601 with the portal's offset) in the user's zone. */
export function formatDateTime(value: unknown, lang: string, timeZone?: string): string {
  if (isEmpty(value)) return EMPTY;
  const d = new Date(String(value));
  return Number.isNaN(d.getTime()) ? String(value) : formatInstant(d, lang, timeZone);
}

/**
 * A file field's value: crm.<entity>.get gives {id, showUrl, downloadUrl}, crm.item.get {id, url, urlMachine} — no
 * name either way; `nameOf` knows the names read from the files' downloads. Unnamed, a file is "File #id".
 */
export function formatFile(
  value: unknown,
  fileWord: string,
  origin?: string,
  nameOf?: (id: string) => string | undefined,
): FormattedValue {
  if (isEmpty(value)) return { text: EMPTY };
  if (typeof value !== "object" || value === null)
    return { text: nameOf?.(String(value)) ?? `${fileWord} #${String(value)}` };
  const f = value as Record<string, unknown>;
  const id = String(f.id ?? f.ID ?? "?");
  const given = [f.name, f.NAME, f.ORIGINAL_NAME, f.originalName].find((x) => typeof x === "string" && x !== "");
  const text = (given as string | undefined) ?? nameOf?.(id) ?? `${fileWord} #${id}`;
  const href = safeUrl(
    [f.showUrl, f.url, f.downloadUrl].find((x) => typeof x === "string" && x !== ""),
    origin,
  );
  return { text, parts: [href ? { text, href } : { text }] };
}

/** A link the portal gave, made absolute against the portal's address; only http(s) (never javascript:, data:). */
export function safeUrl(raw: unknown, origin?: string): string | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const u = origin ? new URL(raw, origin) : new URL(raw);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A CRM link's value as the type and id it names: a crm_company / crm_contact / crm_deal / crm_lead field holds an id;
 * a `crm` custom field holds "CO_5" (a prefix per type, crm/data-types.md "crm" — D, C, CO, L, Q, SI, T<hex>) or a
 * bare id when it allows one type only (its settings say which, e.g. {COMPANY: "Y"}).
 */
export function crmLinkTarget(
  value: unknown,
  fieldType: string,
  settings?: Record<string, unknown>,
): { entity: string; id: number } | null {
  if (isEmpty(value) || value === 0 || value === "0") return null;
  const direct: Record<string, string> = {
    crm_company: "company",
    crm_contact: "contact",
    crm_deal: "deal",
    crm_lead: "lead",
    crm_quote: "quote",
  };
  if (direct[fieldType]) {
    const id = Number(value);
    return Number.isInteger(id) && id > 0 ? { entity: direct[fieldType]!, id } : null;
  }
  const s = String(value);
  const prefixed = /^([A-Z]+[0-9a-f]*)_(\d+)$/.exec(s);
  if (prefixed) {
    const byAbbr: Record<string, string> = {
      L: "lead",
      D: "deal",
      C: "contact",
      CO: "company",
      Q: "quote",
      SI: "smart_invoice",
    };
    const abbr = prefixed[1]!;
    const dynamic = /^T([0-9a-f]+)$/.exec(abbr);
    const entity = byAbbr[abbr] ?? (dynamic ? `dynamic_${parseInt(dynamic[1]!, 16)}` : undefined);
    return entity ? { entity, id: Number(prefixed[2]) } : null;
  }
  const only = Object.entries(settings ?? {})
    .filter(([, v]) => v === "Y")
    .map(([k]) => k);
  const single: Record<string, string> = { COMPANY: "company", CONTACT: "contact", DEAL: "deal", LEAD: "lead" };
  const id = Number(s);
  return only.length === 1 && single[only[0]!] && Number.isInteger(id) && id > 0
    ? { entity: single[only[0]!]!, id }
    : null;
}

/** A record's name: TITLE (deals, leads, companies, quotes), title (crm.item.*), NAME LAST_NAME (contacts). */
export function recordTitle(fields: Record<string, unknown> | null | undefined): string | undefined {
  if (!fields) return undefined;
  const title = fields.TITLE ?? fields.title;
  if (typeof title === "string" && title.trim()) return title.trim();
  const name = [fields.NAME ?? fields.name, fields.LAST_NAME ?? fields.lastName]
    .filter((x) => typeof x === "string" && x.trim())
    .join(" ");
  return name || undefined;
}

/** What formatting a field's value needs to know beyond the value: read once per page by present.ts. */
export interface ValueContext {
  lang: string;
  timeZone?: string;
  words: { yes: string; no: string; file: string };
  /** a user's name, if known (user.get, cached) */
  userName(id: number): string | undefined;
  /** a linked record's name, from our own snapshots; the fallback names the type ("Company #5") */
  recordName(entity: string, id: number): string;
  /** the record's own currency, for an amount field (OPPORTUNITY) */
  currency?: string;
  /** the portal's address: file links it gives are relative to it */
  origin?: string;
  /** a file a field of the record holds now, as the portal described it ({id, url}): changes store ids */
  fileOf?(field: string, id: string): unknown;
  /** a file's name, read from its download (lib/history/file-names.ts) */
  fileName?(id: string): string | undefined;
}

export interface FieldInfo {
  type?: string;
  items?: { ID: string; VALUE: string }[];
  settings?: Record<string, unknown>;
}

const USER_TYPES = new Set(["user", "employee"]);
const LINK_TYPES = new Set(["crm_company", "crm_contact", "crm_deal", "crm_lead", "crm_quote", "crm"]);
/** Amount fields whose currency is the record's CURRENCY_ID (crm/deals/crm-deal-fields.md OPPORTUNITY). */
export const AMOUNT_FIELDS = new Set(["OPPORTUNITY", "opportunity"]);

/** One value (not a list) of a field, as text. */
function scalarText(v: unknown, field: string, meta: FieldInfo | undefined, ctx: ValueContext): string {
  if (isEmpty(v)) return EMPTY;
  const type = meta?.type ?? "";
  const item = meta?.items?.find((i) => i.ID === String(v));
  if (item) return item.VALUE;
  if (USER_TYPES.has(type)) {
    const id = Number(v);
    return (Number.isInteger(id) && id > 0 ? ctx.userName(id) : undefined) ?? `#${String(v)}`;
  }
  if (LINK_TYPES.has(type)) {
    const target = crmLinkTarget(v, type, meta?.settings);
    return target ? ctx.recordName(target.entity, target.id) : String(v);
  }
  if (type === "money") return formatMoney(v, ctx.lang);
  if (AMOUNT_FIELDS.has(field) && ctx.currency) return formatMoney(v, ctx.lang, ctx.currency);
  if (type === "boolean" || type === "char") return formatBoolean(v, ctx.words);
  if (type === "date") return formatDay(v, ctx.lang);
  if (type === "datetime") return formatDateTime(v, ctx.lang, ctx.timeZone);
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o.VALUE_TYPE !== undefined) return `${String(o.VALUE)} (${String(o.VALUE_TYPE)})`;
    return String(o.VALUE ?? o.name ?? JSON.stringify(v));
  }
  return String(v);
}

/** Texts longer than this are shown as a word-level diff rather than twice in full. */
export const LONG_TEXT = 200;

const isFileType = (type: string | undefined) => type === "file" || type === "disk_file";

/** A field's value (one or a list) as text, with parts for files (name + link). */
export function formatFieldValue(
  v: unknown,
  field: string,
  meta: FieldInfo | undefined,
  ctx: ValueContext,
): FormattedValue {
  const list = Array.isArray(v) ? v : [v];
  if (Array.isArray(v) && !v.length) return { text: EMPTY };
  if (isFileType(meta?.type)) {
    const described = (f: unknown) => (typeof f === "object" || isEmpty(f) ? f : (ctx.fileOf?.(field, String(f)) ?? f));
    const files = list.map((f) => formatFile(described(f), ctx.words.file, ctx.origin, ctx.fileName));
    const parts = files.flatMap((f, i) => [...(i ? [{ text: ", " }] : []), ...(f.parts ?? [{ text: f.text }])]);
    return { text: files.map((f) => f.text).join(", "), parts };
  }
  return { text: list.map((x) => scalarText(x, field, meta, ctx)).join(", ") };
}

/** Both sides of a change; a long text (> LONG_TEXT characters on either side) becomes a word-level diff. */
export function formatChange(
  before: unknown,
  after: unknown,
  field: string,
  meta: FieldInfo | undefined,
  ctx: ValueContext,
): { old: FormattedValue; new: FormattedValue } {
  const old = formatFieldValue(before, field, meta, ctx);
  const now = formatFieldValue(after, field, meta, ctx);
  const texts = typeof before === "string" && typeof after === "string" && !meta?.items?.length;
  if (texts && before && after && (before.length > LONG_TEXT || after.length > LONG_TEXT)) {
    const d = wordDiff(before, after);
    return { old: { ...old, parts: d.old }, new: { ...now, parts: d.new } };
  }
  return { old, new: now };
}

/** The user ids a field's values name (to resolve their names before formatting). */
export function userIdsOf(v: unknown, meta: FieldInfo | undefined): number[] {
  if (!USER_TYPES.has(meta?.type ?? "")) return [];
  return (Array.isArray(v) ? v : [v]).map(Number).filter((id) => Number.isInteger(id) && id > 0);
}

/** The files a file field's values name (ids, or descriptors with an id), to read their names before formatting. */
export function fileIdsOf(v: unknown, meta: FieldInfo | undefined): number[] {
  if (!isFileType(meta?.type)) return [];
  return (Array.isArray(v) ? v : [v])
    .map((x) => Number(x && typeof x === "object" ? ((x as { id?: unknown }).id ?? (x as { ID?: unknown }).ID) : x))
    .filter((id) => Number.isInteger(id) && id > 0);
}

/** The records a field's values link to (to read their names from our snapshots). */
export function linksOf(v: unknown, meta: FieldInfo | undefined): { entity: string; id: number }[] {
  if (!LINK_TYPES.has(meta?.type ?? "")) return [];
  return (Array.isArray(v) ? v : [v])
    .map((x) => crmLinkTarget(x, meta!.type!, meta?.settings))
    .filter((x): x is { entity: string; id: number } => x !== null);
}
