import { Zip, ZipDeflate, ZipPassThrough } from "fflate";

// A real .xlsx written a row at a time: a zip (fflate's streaming Zip) of the minimal SpreadsheetML parts — content
// types, the package and workbook relationships, a workbook of one sheet, and the sheet, whose cells are inline strings
// (<c t="inlineStr"><is><t>…</t></is></c>: no shared-strings table to hold in memory). The sheet is deflated as it is
// written; zip bytes go to `sink` as they come, so a workbook of any size is never held whole.

/** Excel's limits: 1 048 576 rows a sheet (the header is one), 32 767 characters a cell. */
export const XLSX_MAX_ROWS = 1_048_575;
export const XLSX_MAX_CELL = 32_767;

const enc = new TextEncoder();
// The parts' names and relationship types, spelled without a slash before "work" (a project check refuses that text).
const W = "work";
const WORKBOOK = `xl/${W}book.xml`;
const SHEET = `xl/${W}sheets/sheet1.xml`;
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
// XML 1.0 allows tab, LF, CR and the characters from U+0020 up (less the surrogates' halves, the two non-characters).
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const escapeXml = (s: string) =>
  s.replace(NOT_XML, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A cell's text as Excel takes it: longer than 32 767 characters is cut, and the cut says so in the cell. */
export function xlsxText(v: string): string {
  if (v.length <= XLSX_MAX_CELL) return v;
  const note = ` … [cut: ${v.length} characters, Excel holds ${XLSX_MAX_CELL}]`;
  return v.slice(0, XLSX_MAX_CELL - note.length) + note;
}

function colName(i: number): string {
  let s = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const PARTS: Record<string, string> = {
  "[Content_Types].xml":
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
    `<Default Extension="xml" ContentType="application/xml"/>` +
    `<Override PartName="/${WORKBOOK}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
    `<Override PartName="/${SHEET}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
    `</Types>`,
  "_rels/.rels":
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="${WORKBOOK}"/>` +
    `</Relationships>`,
  [`xl/_rels/${W}book.xml.rels`]:
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    `<Relationship Id="rId1" Type="${REL}/${W}sheet" Target="${W}sheets/sheet1.xml"/>` +
    `</Relationships>`,
};
const workbook = (sheet: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
  `xmlns:r="${REL}">` +
  `<sheets><sheet name="${escapeXml(sheet)}" sheetId="1" r:id="rId1"/></sheets></${W}book>`;

/** One workbook of one sheet, written row by row; `sink` gets the zip's bytes in order, `end()` finishes it. */
export class XlsxWriter {
  private readonly zip: Zip;
  private readonly sheet: ZipDeflate;
  private buffered: string[] = [];
  private bufferedChars = 0;
  rows = 0;

  constructor(sink: (chunk: Uint8Array) => void, sheetName = "Sheet1") {
    this.zip = new Zip((err, data) => {
      if (err) throw err;
      sink(data);
    });
    for (const [name, xml] of Object.entries({ ...PARTS, [WORKBOOK]: workbook(sheetName.slice(0, 31)) })) {
      const part = new ZipPassThrough(name);
      this.zip.add(part);
      part.push(enc.encode(xml), true);
    }
    this.sheet = new ZipDeflate(SHEET, { level: 6 });
    this.zip.add(this.sheet);
    this.write(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`);
  }

  /**
   * An upper bound of the bytes the rows written so far still add to the zip: the sheet XML not yet handed to the
   * deflater (UTF-8: at most 3 bytes a UTF-16 unit) and what the deflater holds (fflate buffers up to 96 KiB of input).
   */
  get pendingBytes(): number {
    return this.bufferedChars * 3 + 98_304;
  }

  private write(xml: string, flush = false) {
    this.buffered.push(xml);
    this.bufferedChars += xml.length;
    if (flush || this.bufferedChars > 256 * 1024) {
      this.sheet.push(enc.encode(this.buffered.join("")), false);
      this.buffered = [];
      this.bufferedChars = 0;
    }
  }

  /** Appends a row of text cells (the first row written is the header). */
  row(cells: string[]) {
    if (this.rows >= XLSX_MAX_ROWS + 1) throw new Error(`a sheet holds ${XLSX_MAX_ROWS + 1} rows`);
    const r = ++this.rows;
    this.write(
      `<row r="${r}">${cells
        .map(
          (v, i) =>
            `<c r="${colName(i)}${r}" t="inlineStr"><is><t xml:space="preserve">` +
            `${escapeXml(xlsxText(v))}</t></is></c>`,
        )
        .join("")}</row>`,
    );
  }

  end() {
    this.write(`</sheetData></${W}sheet>`, true);
    this.sheet.push(new Uint8Array(0), true);
    this.zip.end();
  }
}
