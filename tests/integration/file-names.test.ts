// Files by name (issue #16 item 2). crm.item.get/list give a file as {id, url, urlMachine} and no name (b24restdocs
// api-reference/files/how-to-update-files.md); the download behind urlMachine names it in Content-Disposition, as the
// file was uploaded (core CFile::ViewByUser; the fake: tests/fake-portal/item-file-download.ts). The app names each
// file once, right after the read that saw it — backfill, capture and the sweep — and keeps the name
// (lib/history/file-names.ts); the tab and the CSV show it with the portal's link.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor, fileNameOf } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { runBackfill } from "@/lib/history/backfill";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { startAppWithFake } from "../support/lifecycle-env";
import { portalFile } from "../support/crm-files";
import { installPortal, settleCapture } from "../support/installed-portal";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
const settle = () => settleCapture(portalId);
const b64 = (s: string) => Buffer.from(s).toString("base64");
const downloads = () => env.state().counters.rest["crm.controller.item.getfile"] ?? 0;
const stored = async () =>
  Object.fromEntries(
    (await getDb().crmFileName.findMany({ where: { portalId } })).map((r) => [r.fileId, r.name] as const),
  );
async function shown(entityType: string, entityId: number, field: string) {
  const items = (await queryHistory(portalId, { entityType, entityId })).items.filter((c) => c.field === field);
  return JSON.stringify(await presentChanges(portalId, entityType, items, "en"));
}

beforeAll(async () => {
  env = await startAppWithFake();
  env.state().disk.nextId = 1000; // uploads take ids from 1000: the files placed by hand below keep theirs
  // a deal with a file before the install: the backfill's read names it
  env.state().crm.deal.get(5)!.UF_CRM_CONTRACT = portalFile(env.state(), 900, "Смета Q4.xlsx");
  portalId = (await installPortal(env)).id;
  await runBackfill(portalId);
});
afterAll(() => env.stop());

describe("a CRM file's name", () => {
  it("is read once by the backfill, from the file's download", async () => {
    expect(await stored()).toMatchObject({ 900: "Смета Q4.xlsx" });
    expect(downloads()).toBe(1);
    await runBackfill(portalId); // done: no read, no download
    expect(downloads()).toBe(1);
  });

  it("of a file uploaded to a smart process item is shown in its change, with the portal's link", async () => {
    const client = await bitrixFor(portalId);
    await client.call("crm.item.update", {
      entityTypeId: 128,
      id: 2,
      fields: { ufCrm1Files: [["Акт приёмки.pdf", b64("%PDF")]] },
    });
    await settle();
    const text = await shown("dynamic_128", 2, "ufCrm1Files");
    expect(text).toContain("Акт приёмки.pdf");
    expect(text).toContain("action=crm.controller.item.getFile");
    expect(text).not.toMatch(/urlMachine|auth=/);
  });

  it("that no download gives leaves File #id and the change recorded; the record's next read names it", async () => {
    // file 901 is in the deal but the portal will not serve it yet (the download answers an error)
    const link = "/bitrix/components/bitrix/crm.deal.show/show_file.php?fileId=901";
    await env.control("crm/deal/6", { fields: { UF_CRM_CONTRACT: { id: 901, showUrl: link } }, userId: 2 });
    await settle();
    expect(await shown("deal", 6, "UF_CRM_CONTRACT")).toContain("File #901");
    expect((await stored())[901]).toBeUndefined();
    portalFile(env.state(), 901, "contract-final.pdf");
    await env.control("crm/deal/6", { fields: { TITLE: "Renamed" }, userId: 2 });
    await settle();
    expect((await stored())[901]).toBe("contract-final.pdf");
    expect(await shown("deal", 6, "UF_CRM_CONTRACT")).toContain("contract-final.pdf");
  });

  it("is never asked of a link that points away from the portal", async () => {
    const client = await bitrixFor(portalId);
    const before = downloads();
    expect(await fileNameOf(client, "https://elsewhere.example/rest/x.json?auth=t", "background")).toBeNull();
    expect(await fileNameOf(client, "javascript:alert(1)", "background")).toBeNull();
    expect(downloads()).toBe(before);
  });
});
