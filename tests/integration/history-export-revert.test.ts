import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { attachFile, fileValue, uploadFormFor, uploadToDisk } from "@/lib/bitrix/upload";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { attachHistoryCsv, buildHistoryCsv, CSV_LIMITS, toCsv } from "@/lib/history/export";
import { revertChange } from "@/lib/history/revert";
import type { PortalSession } from "@/lib/auth/session";
import { fileNamesIn, fileSizeIn, portalFile } from "../support/crm-files";
import { installPortal, settleCapture } from "../support/installed-portal";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";
import { frameSession } from "../support/sessions";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
let admin: PortalSession;
/** `n` changes of one deal's field by user 1, a minute apart on 2026-01-`day`: "<p>0" → "<p>1", "<p>1" → "<p>2"… */
const seedChanges = (entityId: number, field: string, p: string, n: number, day: number) =>
  getDb().fieldChange.createMany({
    data: Array.from({ length: n }, (_, k) => ({
      portalId,
      entityType: "deal",
      entityId,
      field,
      oldValue: `${p}${k}`,
      newValue: `${p}${k + 1}`,
      changedById: 1,
      changedAt: new Date(Date.UTC(2026, 0, day, 0, k)),
    })),
  });
const settle = () => settleCapture(portalId);
beforeAll(async () => {
  env = await startAppWithFake();
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
  admin = (await frameSession(env.control, 1)).session;
});
afterAll(() => env.stop());

const file = { name: "history.csv", content: new TextEncoder().encode("a,b\r\n1,2\r\n") };

describe("one normalized upload module: the CSV export in every form", () => {
  it("picks the payload form by target", () => {
    expect(uploadFormFor({ method: "crm.timeline.comment.add" })).toBe("pair");
    expect(uploadFormFor({ method: "crm.item.update" })).toBe("pair");
    expect(uploadFormFor({ method: "crm.deal.update" })).toBe("fileData");
    expect(uploadFormFor({ method: "documentgenerator.template.add" })).toBe("base64");
    expect(uploadFormFor({ method: "tasks.task.update" })).toBe("disk");
    expect(fileValue("base64", file)).toBe(Buffer.from(file.content).toString("base64"));
    expect(fileValue("pair", file)).toEqual(["history.csv", Buffer.from(file.content).toString("base64")]);
  });

  it("puts the history CSV into a deal's file field as a [name, base64] pair through crm.item.update", async () => {
    const since = env.state().log.length;
    const r = await attachHistoryCsv(admin, "deal", 2, "UF_CRM_CONTRACT");
    expect(r.form).toBe("pair");
    const csv = await buildHistoryCsv(portalId, "deal", 2, "en");
    const value = env.state().crm.deal.get(2)!.UF_CRM_CONTRACT;
    expect(fileNamesIn(env.state(), value)).toEqual(["history-deal-2.csv"]);
    expect(fileSizeIn(env.state(), value)).toBe(csv.content.length);
    // crm.deal.update is "not recommended ... for updating file fields" (b24restdocs files/how-to-update-files.md)
    const writes = env
      .state()
      .log.slice(since)
      .filter((e) => e.status === 200 && /update$/.test(e.rest ?? ""));
    expect(writes.map((e) => e.rest)).toEqual(["crm.item.update"]);
  });

  it("attaching to a deal's multiple file field keeps its files and the earlier parts, through crm.item.*", async () => {
    const had = [101, 102].map((id) => portalFile(env.state(), id, `had-${id}.pdf`));
    env.state().crm.deal.get(3)!.UF_CRM_DOCS = had;
    await seedChanges(3, "COMMENTS", "c", 3, 2);
    const saved = CSV_LIMITS.partRows;
    CSV_LIMITS.partRows = 2;
    const since = env.state().log.length;
    try {
      const r = await attachHistoryCsv(admin, "deal", 3, "UF_CRM_DOCS");
      expect(r).toMatchObject({ attachedTo: "UF_CRM_DOCS", form: "pair" });
    } finally {
      CSV_LIMITS.partRows = saved;
    }
    expect(fileNamesIn(env.state(), env.state().crm.deal.get(3)!.UF_CRM_DOCS)).toEqual([
      "had-101.pdf",
      "had-102.pdf",
      "history-deal-3-part-1-of-2.csv",
      "history-deal-3-part-2-of-2.csv",
    ]);
    // read and written through crm.item.*, never crm.deal.get / crm.deal.update
    const calls = env
      .state()
      .log.slice(since)
      .filter((e) => e.status === 200) // a 503 (rate limit) retried is one call
      .map((e) => e.rest)
      .filter((m) => m && /^crm\.(deal|item)\.(get|update)$/.test(m));
    expect(calls).toEqual(["crm.item.get", "crm.item.update", "crm.item.get", "crm.item.update"]);
  });

  it("attaches the history CSV to a smart-process item's file field (was 400 not_supported)", async () => {
    const r = await attachHistoryCsv(admin, "dynamic_128", 1, "ufCrm1Files");
    expect(r).toMatchObject({ attachedTo: "ufCrm1Files", form: "pair", name: "history-dynamic_128-1.csv" });
    const files = () => fileNamesIn(env.state(), env.state().items.stores.get(128)!.records.get(1)!.UF_CRM_1_FILES);
    expect(files()).toEqual(["history-dynamic_128-1.csv"]);
    // a second attachment keeps the first file (crm.item.update deletes the files not passed)
    await attachHistoryCsv(admin, "dynamic_128", 1, "ufCrm1Files");
    expect(files()).toEqual(["history-dynamic_128-1.csv", "history-dynamic_128-1.csv"]);
  });

  it("sends a bare base64 string where the target takes one (document templates)", async () => {
    const csv = await buildHistoryCsv(portalId, "deal", 2, "en");
    const r = await attachFile(
      await bitrixFor(portalId),
      {
        kind: "method",
        method: "documentgenerator.template.add",
        params: { fields: { name: "History" } },
        path: ["fields", "file"],
      },
      csv,
    );
    expect(r.form).toBe("base64");
    expect(env.state().disk.templates.at(-1)).toMatchObject({ name: "History", size: csv.content.length, bare: true });
  });

  it("refuses a field that is not a file field, before any upload", async () => {
    const before = env.state().log.length;
    await expect(attachHistoryCsv(admin, "deal", 2, "UF_CRM_TEXT")).rejects.toMatchObject({ status: 400 });
    expect(
      env
        .state()
        .log.slice(before)
        .filter((e) => e.rest !== "crm.item.fields"),
    ).toEqual([]);
  });

  it.each([false, true])("uploads to Drive first (two-step: %s)", async (twoStep) => {
    const uploaded = await uploadToDisk(await bitrixFor(portalId), 1, file, { twoStep });
    expect(uploaded).toMatchObject({ NAME: "history.csv", SIZE: String(file.content.length) });
  });
});

describe("export and revert", () => {
  it("never cuts a long history silently: more rows than a file holds go in several files, each said to be a part", async () => {
    await seedChanges(17, "TITLE", "t", 7, 1);
    const saved = CSV_LIMITS.partRows;
    CSV_LIMITS.partRows = 3;
    try {
      const before = env.state().timeline.length;
      const r = await attachHistoryCsv(admin, "deal", 17);
      expect(r).toMatchObject({
        rows: 7,
        files: [
          "history-deal-17-part-1-of-3.csv",
          "history-deal-17-part-2-of-3.csv",
          "history-deal-17-part-3-of-3.csv",
        ],
      });
      const added = env.state().timeline.slice(before);
      expect(added.map((c) => [c.COMMENT, c.FILES[0]!.name])).toEqual([
        ["Change history (1/3)", "history-deal-17-part-1-of-3.csv"],
        ["Change history (2/3)", "history-deal-17-part-2-of-3.csv"],
        ["Change history (3/3)", "history-deal-17-part-3-of-3.csv"],
      ]);
      // a single-file field cannot take three files: said before anything is uploaded
      const sent = env.state().log.length;
      await expect(attachHistoryCsv(admin, "deal", 17, "UF_CRM_CONTRACT")).rejects.toMatchObject({
        status: 400,
        code: "too_many_rows",
        message: expect.stringMatching(/7 changes make 3 files/),
      });
      expect(
        env
          .state()
          .log.slice(sent)
          .filter((e) => !/\.(get|fields)$/.test(e.rest ?? "")),
      ).toEqual([]);
    } finally {
      CSV_LIMITS.partRows = saved;
    }
  });

  it("attaches the history as a CSV file on the record's timeline", async () => {
    await env.control("crm/deal/9", { fields: { TITLE: '=HYPERLINK("x")', COMMENTS: 'a, "quoted" note' }, userId: 2 });
    await settle();
    const r = await attachHistoryCsv(admin, "deal", 9);
    expect(r).toMatchObject({ rows: 2, form: "pair", attachedTo: "timeline" });
    const timeline = env.state().timeline.at(-1)!;
    expect(timeline).toMatchObject({ ENTITY_TYPE: "deal", ENTITY_ID: 9, FILES: [{ name: "history-deal-9.csv" }] });
    const csv = toCsv(
      ["When", "Field"],
      [
        ["x", '=HYPERLINK("x")'],
        ["y", 'a, "quoted" note'],
      ],
    );
    expect(csv.startsWith('\uFEFF"When","Field"\r\n')).toBe(true); // every cell quoted (lib/history/export.test.ts)
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`); // formula neutralised and quoted
    expect(csv).toContain(`"a, ""quoted"" note"`);
  });

  it.each(["Y", "N"])(
    "reverts a change without the write coming back as a new change (rest_auth_connector=%s)",
    async (feature) => {
      await getDb().capabilityProfile.update({
        where: { portalId },
        data: { features: { rest_offline_extended: "Y", rest_auth_connector: feature } },
      });
      const id = feature === "Y" ? 10 : 11;
      const original = String(env.state().crm.deal.get(id)!.TITLE);
      await env.control(`crm/deal/${id}`, { fields: { TITLE: "Wrong title" }, userId: 2 });
      await settle();
      const change = await getDb().fieldChange.findFirstOrThrow({ where: { portalId, entityId: id, field: "TITLE" } });
      expect(await revertChange(portalId, change.id, { userId: 1, session: admin })).toEqual({ status: "done" });
      expect(env.state().crm.deal.get(id)!.TITLE).toBe(original);
      await settle(); // an echo, if any, arrives and is processed here
      const changes = await getDb().fieldChange.findMany({
        where: { portalId, entityId: id, field: "TITLE" },
        orderBy: { id: "asc" },
      });
      expect(changes.map((c) => c.source)).toEqual(["event", "revert"]);
      expect(changes[1]).toMatchObject({ oldValue: "Wrong title", newValue: original, changedById: 1 });
    },
  );

  it.each([true, false])(
    "a revert that needs an admin's confirmation changes nothing until confirmed (confirmed: %s)",
    async (confirmed) => {
      const id = confirmed ? 12 : 13;
      await env.control(`crm/deal/${id}`, { fields: { COMMENTS: "needs a revert" }, userId: 2 });
      await settle();
      const change = await getDb().fieldChange.findFirstOrThrow({
        where: { portalId, entityId: id, field: "COMMENTS" },
      });
      await env.control("methods", { name: "crm.item.update", confirm: "required" });
      await env.control("tokens/expire"); // a confirmation is bound to its access token: the next case needs a new one
      try {
        const outcome = await revertChange(portalId, change.id, { userId: 1, session: admin });
        expect(outcome.status).toBe("pending");
        expect(env.state().crm.deal.get(id)!.COMMENTS).toBe("needs a revert"); // not written yet
        const snapshot = await getDb().crmSnapshot.findUniqueOrThrow({
          where: { portalId_entityType_entityId: { portalId, entityType: "deal", entityId: id } },
        });
        expect((snapshot.fields as Record<string, unknown>).COMMENTS).toBe("needs a revert"); // nor assumed written
        await env.control("confirm", { method: "crm.item.update", confirmed }); // the admin answers: ONAPPMETHODCONFIRM
        await waitUntil(
          async () =>
            (await getDb().eventInbox.count({ where: { portalId, event: "ONAPPMETHODCONFIRM", status: "pending" } })) >
              0 || (await getDb().pendingCall.count({ where: { portalId, status: "pending" } })) === 0,
        );
        await settle();
        const call = await getDb().pendingCall.findUniqueOrThrow({
          where: { id: (outcome as { pendingId: string }).pendingId },
        });
        expect(call.status).toBe(confirmed ? "done" : "denied");
        expect(env.state().crm.deal.get(id)!.COMMENTS).toBe(confirmed ? (change.oldValue ?? "") : "needs a revert");
        await settle(); // an echo, if any
        const sources = (
          await getDb().fieldChange.findMany({
            where: { portalId, entityId: id, field: "COMMENTS" },
            orderBy: { id: "asc" },
          })
        ).map((c) => c.source);
        expect(sources).toEqual(confirmed ? ["event", "revert"] : ["event"]);
      } finally {
        await env.control("methods", { name: "crm.item.update", confirm: "none" });
      }
    },
  );
});
