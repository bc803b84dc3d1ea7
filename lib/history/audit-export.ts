import "server-only";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Prisma } from "@prisma/client";
import type { PortalSession } from "@/lib/auth/session";
import { userCaller } from "@/lib/auth/user-rights";
import { isAccessDenied, isBitrixError } from "@/lib/bitrix";
import { uploadToDisk, type DiskFile } from "@/lib/bitrix/upload";
import { decryptSecret, encryptSecret } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { countAudit, presentAudit, searchAudit, type AuditQuery } from "@/lib/history/audit";
import { changeCsvCells, changeCsvHeader, csvCell } from "@/lib/history/export";
import { XLSX_MAX_ROWS, XlsxWriter } from "@/lib/history/xlsx";
import { AppError } from "@/lib/http-errors";
import { dict } from "@/lib/i18n";
import { enqueueJob } from "@/lib/jobs/queue";

// A portal-wide export of an Audit search (issue #17 item 2; docs/history.md "Exporting a search"): an admin asks for
// the search they see as CSV or XLSX; a background job (lane "background", lib/composition/registry.ts "audit.export") reads
// the search in keyset pages (never all rows at once), writes each page to the file on the machine's temp disk,
// records its progress after every page, and uploads the file to the admin's own Bitrix24 Drive with their own token.
// A file larger than one upload may carry is split into parts named "part k of n" — never cut.

export const AUDIT_EXPORT_JOB = "audit.export";
export const EXPORT_FORMATS = ["csv", "xlsx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * partBytes: the most one uploaded file carries (our cap: Bitrix24's REST docs name none, and a portal's web server
 * refuses bodies past its own limit, commonly tens of MB); pageRows: rows read a page; xlsxPartRows: rows a workbook
 * holds besides its header (Excel's sheet ends at 1 048 576 rows).
 */
export const EXPORT_LIMITS = { partBytes: 40 * 1024 * 1024, pageRows: 1000, xlsxPartRows: XLSX_MAX_ROWS };

/** Room left at the end of a part for what closes it (the XLSX's last deflate block and zip directory). */
const CLOSING_BYTES = 4096;

const enc = new TextEncoder();

/** The columns: the record CSV's nine (lib/history/export.ts), then which record and how the change was captured. */
function header(lang: string): string[] {
  const t = dict(lang);
  return [...changeCsvHeader(t), t.record, "entityType", "entityId", "source"];
}

/** One file being written on the temp disk: CSV lines or an XLSX sheet's rows. */
interface PartFile {
  file: string;
  rows: number;
  bytes: number;
  fits(cells: string[]): boolean;
  row(cells: string[]): void;
  end(): void;
}

function csvPart(file: string, head: string[], limitBytes: number): PartFile {
  const fd = openSync(file, "w");
  let buffered: string[] = [];
  let bufferedBytes = 0;
  const flush = () => {
    if (buffered.length) writeSync(fd, enc.encode(buffered.join("")));
    buffered = [];
    bufferedBytes = 0;
  };
  const out = (s: string, bytes: number) => {
    buffered.push(s);
    bufferedBytes += bytes;
    part.bytes += bytes;
    if (bufferedBytes > 1024 * 1024) flush();
  };
  // RFC 4180 as the record CSV: UTF-8 with a BOM, every cell quoted and formula-safe (csvCell), CRLF line ends
  const line = (cells: string[]) => `${cells.map(csvCell).join(",")}\r\n`;
  let measured: { cells: string[]; text: string; bytes: number } | null = null;
  const measure = (cells: string[]) => {
    if (measured?.cells !== cells) {
      const text = line(cells);
      measured = { cells, text, bytes: Buffer.byteLength(text) };
    }
    return measured;
  };
  const part: PartFile = {
    file,
    rows: 0,
    bytes: 0,
    fits: (cells) => part.rows === 0 || part.bytes + measure(cells).bytes <= limitBytes,
    row: (cells) => {
      const m = measure(cells);
      out(m.text, m.bytes);
      part.rows++;
    },
    end: () => {
      flush();
      closeSync(fd);
    },
  };
  const first = `\uFEFF${line(head)}`;
  out(first, Buffer.byteLength(first));
  return part;
}

function xlsxPart(file: string, head: string[], limitBytes: number, limitRows: number, sheet: string): PartFile {
  const fd = openSync(file, "w");
  const part: PartFile = {
    file,
    rows: 0,
    bytes: 0,
    // the zip bytes written so far, plus the sheet XML not yet deflated (an upper bound of what it becomes)
    fits: (cells) =>
      part.rows === 0 ||
      (part.rows < limitRows &&
        part.bytes + writer.pendingBytes + cells.reduce((n, c) => n + c.length * 3 + 64, 0) + CLOSING_BYTES <=
          limitBytes),
    row: (cells) => {
      writer.row(cells);
      part.rows++;
    },
    end: () => {
      writer.end();
      closeSync(fd);
    },
  };
  const writer = new XlsxWriter((chunk) => {
    writeSync(fd, chunk);
    part.bytes += chunk.length;
  }, sheet);
  writer.row(head);
  return part;
}

export interface ExportedFile {
  name: string;
  id: string;
  url: string | null;
  rows: number;
  bytes: number;
}

/** What the progress route answers (never the token). */
export function exportView(e: Prisma.AuditExportGetPayload<object>) {
  return {
    id: e.id,
    status: e.status,
    format: e.format,
    filters: e.filters,
    rowsWritten: e.rowsWritten,
    totalEstimate: e.totalEstimate,
    fileName: e.fileName,
    driveFileId: e.driveFileId,
    driveUrl: e.driveUrl,
    files: e.files as unknown as ExportedFile[],
    error: e.error,
    createdAt: e.createdAt.toISOString(),
    startedAt: e.startedAt?.toISOString() ?? null,
    finishedAt: e.finishedAt?.toISOString() ?? null,
  };
}

/** Queues an export of `query` for the session's admin. The caller has checked the admin. */
export async function createAuditExport(s: PortalSession, query: AuditQuery, format: ExportFormat, timeZone?: string) {
  const { cursor: _cursor, ...filters } = query; // the whole search, from its newest change
  const row = await getDb().auditExport.create({
    data: {
      portalId: s.portalId,
      userId: s.userId,
      filters,
      format,
      lang: s.lang,
      timeZone: timeZone ?? null,
      userTokenEnc: encryptSecret(s.userToken),
    },
  });
  await enqueueJob(AUDIT_EXPORT_JOB, { portalId: s.portalId, payload: { exportId: row.id } });
  return row;
}

/** The export `id` of `portalId` (404 for another portal's: its id says nothing here). */
export async function getAuditExport(portalId: string, id: string) {
  const row = /^[0-9a-f-]{36}$/i.test(id) ? await getDb().auditExport.findFirst({ where: { id, portalId } }) : null;
  if (!row) throw new AppError(404, "not_found", "No such export on this portal");
  return row;
}

const partName = (base: string, ext: string, k: number, n: number) =>
  n === 1 ? `${base}.${ext}` : `${base}-part-${k}-of-${n}.${ext}`;

/**
 * Where the file goes: the user's own Drive — their storage from `disk.storage.getlist` filtered to
 * ENTITY_TYPE "user", ENTITY_ID = the user (b24restdocs api-reference/disk/storage/disk-storage-get-list.md: "any
 * user" may call it and sees the storages they can reach) — or, when the portal gives them none, the app's storage
 * (api-reference/disk/storage/disk-storage-get-for-app.md, administrators only: the exporter is one).
 */
async function driveFolder(caller: Awaited<ReturnType<typeof userCaller>>, userId: number): Promise<number> {
  const mine = await caller.call<{ ENTITY_TYPE: string; ENTITY_ID: string; ROOT_OBJECT_ID: string }[]>(
    "disk.storage.getlist",
    { filter: { ENTITY_TYPE: "user", ENTITY_ID: userId } },
  );
  const own = (mine.result ?? []).find((st) => st.ENTITY_TYPE === "user" && Number(st.ENTITY_ID) === userId);
  if (own) return Number(own.ROOT_OBJECT_ID);
  const app = await caller.call<{ ROOT_OBJECT_ID: string }>("disk.storage.getforapp", {});
  return Number(app.result.ROOT_OBJECT_ID);
}

function failureText(e: unknown, lang: string): string {
  if (e instanceof AppError) return e.message;
  if (isAccessDenied(e)) return dict(lang).exportDriveDenied;
  if (isBitrixError(e)) return `Bitrix24: ${e.code} ${e.message}`.trim();
  return "The export failed (see the worker's log)";
}

/**
 * The job: streams the search into parts on the temp disk, then uploads them to the user's Drive. A failure marks
 * the export failed with a plain reason and is not retried (the admin asks again); a stopping worker puts it back in
 * the queue to start over.
 */
export async function runAuditExport(exportId: string, signal?: AbortSignal): Promise<unknown> {
  const db = getDb();
  const row = await db.auditExport.findUnique({ where: { id: exportId } });
  if (!row || row.status === "done" || row.status === "failed") return "gone";
  if (!row.userTokenEnc) {
    await db.auditExport.update({
      where: { id: row.id },
      data: { status: "failed", finishedAt: new Date(), error: dict(row.lang).exportSignInLost },
    });
    return "failed";
  }
  const query = row.filters as AuditQuery;
  const dir = mkdtempSync(path.join(tmpdir(), "audit-export-"));
  try {
    await db.auditExport.update({
      where: { id: row.id },
      data: {
        status: "running",
        startedAt: new Date(),
        rowsWritten: 0,
        totalEstimate: await countAudit(row.portalId, query),
      },
    });
    const head = header(row.lang);
    const ext = row.format === "xlsx" ? "xlsx" : "csv";
    const open = (k: number) => {
      const file = path.join(dir, `part-${k}.${ext}`);
      return ext === "xlsx"
        ? xlsxPart(
            file,
            head,
            EXPORT_LIMITS.partBytes,
            EXPORT_LIMITS.xlsxPartRows,
            dict(row.lang).auditTitle.slice(0, 31),
          )
        : csvPart(file, head, EXPORT_LIMITS.partBytes);
    };
    const parts: PartFile[] = [open(1)];
    let written = 0;
    let cursor: string | undefined;
    do {
      if (signal?.aborted) throw new StopError();
      const page = await searchAudit(row.portalId, { ...query, cursor }, EXPORT_LIMITS.pageRows);
      const shown = await presentAudit(row.portalId, page.items, row.lang, row.timeZone ?? undefined);
      for (const r of shown) {
        const cells = [
          ...changeCsvCells(r),
          `${r.entityType} #${r.entityId}`,
          r.entityType,
          String(r.entityId),
          r.source,
        ];
        if (!parts.at(-1)!.fits(cells)) {
          parts.at(-1)!.end();
          parts.push(open(parts.length + 1));
        }
        parts.at(-1)!.row(cells);
      }
      written += shown.length;
      await db.auditExport.update({ where: { id: row.id }, data: { rowsWritten: written } });
      cursor = page.next ?? undefined;
    } while (cursor);
    parts.at(-1)!.end();

    const s = {
      portalId: row.portalId,
      userId: row.userId,
      userToken: decryptSecret(row.userTokenEnc),
    } as PortalSession;
    const caller = await userCaller(s);
    const folder = await driveFolder(caller, row.userId);
    const day = row.createdAt.toISOString().slice(0, 16).replace(":", "-");
    const base = `audit-${day}`;
    const files: ExportedFile[] = [];
    for (const [i, part] of parts.entries()) {
      if (signal?.aborted) throw new StopError();
      const name = partName(base, ext, i + 1, parts.length);
      // the two-step upload (disk.folder.uploadfile without fileContent answers {field, uploadUrl}, then a multipart
      // POST — api-reference/disk/folder/disk-folder-upload-file.md): the file travels as bytes, not Base64
      const up = (await uploadToDisk(
        caller,
        folder,
        { name, content: readFileSync(part.file) },
        { twoStep: true },
      )) as DiskFile & { DETAIL_URL?: string };
      files.push({
        name: up.NAME ?? name,
        id: String(up.ID),
        url: up.DETAIL_URL ?? up.DOWNLOAD_URL ?? null,
        rows: part.rows,
        bytes: part.bytes,
      });
      await db.auditExport.update({
        where: { id: row.id },
        data: { files: files as unknown as Prisma.InputJsonValue },
      });
    }
    await db.auditExport.update({
      where: { id: row.id },
      data: {
        status: "done",
        finishedAt: new Date(),
        fileName: files[0]!.name,
        driveFileId: files[0]!.id,
        driveUrl: files[0]!.url,
        userTokenEnc: null,
      },
    });
    return { rows: written, parts: files.length };
  } catch (e) {
    if (e instanceof StopError) {
      await db.auditExport.update({ where: { id: row.id }, data: { status: "queued", rowsWritten: 0 } });
      throw e; // the worker queues the job again
    }
    await db.auditExport.update({
      where: { id: row.id },
      data: { status: "failed", finishedAt: new Date(), error: failureText(e, row.lang), userTokenEnc: null },
    });
    return "failed";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class StopError extends Error {
  constructor() {
    super("the worker is stopping: the export starts over");
  }
}
