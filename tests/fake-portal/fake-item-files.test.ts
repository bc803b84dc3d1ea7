import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startInstalled, startWithRecorder } from "./support";

// File fields through crm.item.add/update/get/list, every CRM type (b24restdocs api-reference/files/
// how-to-update-files.md, how-to-upload-files.md, crm/universal/crm-item-update.md "How to Update a File Type Custom
// Field"): new files as ["name", "base64"], `{id}` keeps a file the field has, files not passed are deleted, "" clears;
// read back as {id, url, urlMachine}.

let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeEach(async () => ({ f, admin } = await startInstalled()));
afterEach(() => f.stop());

type R = Record<string, unknown>;
type FileOut = { id: number; url: string; urlMachine: string };
const ok = async (method: string, params: R) => {
  const res = await f.rest(method, params, admin);
  if (res.status !== 200) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
  return res.body as { result: R };
};
const b64 = (s: string) => Buffer.from(s).toString("base64");
const item = async (entityTypeId: number, id: number, extra: R = {}) =>
  ((await ok("crm.item.get", { entityTypeId, id, ...extra })).result as { item: R }).item;
const update = (entityTypeId: number, id: number, fields: R, extra: R = {}) =>
  ok("crm.item.update", { entityTypeId, id, fields, ...extra });

describe("a multiple file field through crm.item.update: keep, add, drop, clear", () => {
  it.each([
    ["a deal's custom field (ufCrm… name)", 2, 3, "ufCrmDocs", "UF_CRM_DOCS"],
    ["a smart process's custom field", 128, 2, "ufCrm1Files", "UF_CRM_1_FILES"],
  ])("%s", async (_, entityTypeId, id, name, upper) => {
    expect((await item(entityTypeId, id))[name]).toEqual([]);
    await update(entityTypeId, id, {
      [name]: [
        ["a.csv", b64("a")],
        ["b.csv", b64("bb")],
      ],
    });
    const two = (await item(entityTypeId, id))[name] as FileOut[];
    expect(two).toHaveLength(2);
    const [a, b] = two;
    expect(a).toEqual({
      id: expect.any(Number),
      url: expect.stringContaining(
        `/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&SITE_ID=s1&entityTypeId=${entityTypeId}` +
          `&id=${id}&fieldName=${upper}&fileId=${a!.id}`,
      ),
      urlMachine: expect.stringContaining(`/rest/crm.controller.item.getFile.json?auth=${admin}&token=`),
    });
    // keep a, drop b (not passed), add c
    await update(entityTypeId, id, { [name]: [{ id: a!.id }, ["c.csv", b64("ccc")]] });
    const kept = (await item(entityTypeId, id))[name] as FileOut[];
    expect(kept.map((x) => x.id)).toEqual([a!.id, expect.any(Number)]);
    expect(kept.map((x) => x.id)).not.toContain(b!.id);
    // an id the field does not have is no file of it: dropped, not an error
    await update(entityTypeId, id, { [name]: [{ id: kept[1]!.id }, { id: b!.id }] });
    expect(((await item(entityTypeId, id))[name] as FileOut[]).map((x) => x.id)).toEqual([kept[1]!.id]);
    // crm.item.list answers the same; "" clears
    const listed = (await ok("crm.item.list", { entityTypeId, filter: { "@id": [id] }, select: ["id", name] })).result
      .items as R[];
    expect(listed[0]![name]).toEqual([expect.objectContaining({ id: kept[1]!.id })]);
    await update(entityTypeId, id, { [name]: "" });
    expect((await item(entityTypeId, id))[name]).toEqual([]);
  });

  it("the legacy crm.deal.get sees the files crm.item.update stored, as {id, showUrl, downloadUrl} with no name", async () => {
    // a real crm.deal.get answer (bitrix-tools/b24-rest-docs issue #94): {id, showUrl, downloadUrl}, nothing more
    await update(2, 3, { ufCrmDocs: [["report.csv", b64("x,y")]] });
    const [file] = (await ok("crm.deal.get", { id: 3 })).result.UF_CRM_DOCS as R[];
    expect(Object.keys(file!).sort()).toEqual(["downloadUrl", "id", "showUrl"]);
  });
});

describe("a file's urlMachine downloads it, named as it was uploaded (core CFile::ViewByUser)", () => {
  const download = (url: string, init: RequestInit = {}) => fetch(url, init);
  const uploaded = async (name: string, content: string) => {
    await update(2, 3, { ufCrmDocs: [[name, b64(content)]] });
    return ((await item(2, 3)).ufCrmDocs as FileOut[])[0]!;
  };

  it("a GET answers the bytes with Content-Disposition: the name in filename*=utf-8'' and a plain fallback", async () => {
    const file = await uploaded("Отчёт Q4.csv", "a,b\n1,2");
    const res = await download(file.urlMachine);
    expect(res.status).toBe(200);
    const disposition = res.headers.get("content-disposition")!;
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9.-]+"; filename\*=utf-8''/);
    expect(decodeURIComponent(disposition.split("utf-8''")[1]!)).toBe("Отчёт Q4.csv");
    expect(await res.text()).toBe("a,b\n1,2");
  });

  it("a Range GET answers 206 with the bytes asked for; a HEAD has no Content-Disposition", async () => {
    const file = await uploaded("report.csv", "0123456789");
    const part = await download(file.urlMachine, { headers: { range: "bytes=0-0" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 0-0/10");
    expect(part.headers.get("content-disposition")).toContain("filename*=utf-8''report.csv");
    expect(await part.text()).toBe("0");
    const head = await download(file.urlMachine, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-disposition")).toBeNull();
  });

  it("refuses a user who may not read the item, a file the field no longer holds, and no token", async () => {
    const file = await uploaded("report.csv", "x");
    const other = (await f.frame(2)).AUTH_ID!;
    await f.control("rights", { userId: 2, entity: "deal", id: 3, read: false });
    const denied = await download(file.urlMachine.replace(/auth=[^&]+/, `auth=${other}`));
    expect(denied.status).toBe(400);
    expect(await denied.json()).toMatchObject({ error: "ACCESS_DENIED" });
    await update(2, 3, { ufCrmDocs: "" });
    const gone = await download(file.urlMachine);
    expect(gone.status).toBe(400);
    expect((await download(file.urlMachine.replace(/auth=[^&]+&/, ""))).status).toBe(401);
  });
});

describe("a single-value file field through crm.item.*", () => {
  it('takes a pair under its UF_CRM_… name (useOriginalUfNames Y), keeps it by {id}, clears with ""', async () => {
    const opts = { useOriginalUfNames: "Y" };
    await update(2, 5, { UF_CRM_CONTRACT: ["contract.csv", b64("1,2")] }, opts);
    const first = (await item(2, 5, opts)).UF_CRM_CONTRACT as FileOut;
    expect(first).toEqual({ id: expect.any(Number), url: expect.any(String), urlMachine: expect.any(String) });
    expect((await item(2, 5)).ufCrmContract).toEqual(first); // the same file under the camelCase name
    await update(2, 5, { UF_CRM_CONTRACT: { id: first.id } }, opts);
    expect(((await item(2, 5, opts)).UF_CRM_CONTRACT as FileOut).id).toBe(first.id);
    await update(2, 5, { UF_CRM_CONTRACT: ["v2.csv", b64("3,4")] }, opts); // a new file replaces the old one
    const second = (await item(2, 5, opts)).UF_CRM_CONTRACT as FileOut;
    expect(second.id).not.toBe(first.id);
    await update(2, 5, { UF_CRM_CONTRACT: "" }, opts);
    expect((await item(2, 5, opts)).UF_CRM_CONTRACT).toBeNull();
  });

  it("crm.item.add takes files too", async () => {
    const { item: added } = (
      await ok("crm.item.add", {
        entityTypeId: 128,
        fields: { title: "With files", ufCrm1Files: [["x.csv", b64("x")]] },
      })
    ).result as { item: R };
    expect(added.ufCrm1Files).toEqual([expect.objectContaining({ id: expect.any(Number) })]);
  });
});

describe("malformed file values are refused, as the legacy path refuses them", () => {
  it.each([
    ["{fileData} (the legacy form)", { fileData: ["a.csv", "YQ=="] }],
    ["a bare string", "YQ=="],
    ["a number", 7],
    ["a pair whose content is no base64", ["a.csv", "not base64!"]],
    ["a pair with no name", ["", "YQ=="]],
  ])("%s", async (_, value) => {
    for (const [t, id, name] of [
      [2, 3, "ufCrmDocs"],
      [2, 3, "ufCrmContract"],
      [128, 2, "ufCrm1Files"],
    ] as const) {
      const before = (await item(t, id))[name];
      const res = await f.rest("crm.item.update", { entityTypeId: t, id, fields: { [name]: value } }, admin);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: "ERROR_ARGUMENT", error_description: expect.stringContaining(name) });
      expect((await item(t, id))[name]).toEqual(before);
    }
  });
});
