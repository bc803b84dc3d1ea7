import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskFileContent, USER_ROOT } from "./methods-files";
import { startWithRecorder } from "./support";

// The fake's Drive as the audit export uses it (b24restdocs api-reference/disk/storage/disk-storage-get-list.md,
// api-reference/disk/folder/disk-folder-upload-file.md): each user's own storage, uploads into it by its owner only,
// generateUniqueName, and the uploaded bytes kept — a binary file through the two-step upload included.
let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string, employee: string;
beforeAll(async () => {
  f = await startWithRecorder();
  await f.control("install", { mode: "event" });
  admin = (await f.frame(1)).AUTH_ID!;
  employee = (await f.frame(2)).AUTH_ID!;
});
afterAll(() => f.stop());
const state = () => f.running.fake.portals[0]!;
type Storage = { ID: string; ENTITY_TYPE: string; ENTITY_ID: string; ROOT_OBJECT_ID: string };

describe("disk.storage.getlist", () => {
  it("lists the shared drive and the caller's own storage; filters by field; an admin reaches every user's", async () => {
    const mine = await f.rest("disk.storage.getlist", { filter: { ENTITY_TYPE: "user", ENTITY_ID: 2 } }, employee);
    expect(mine.body.result).toEqual([
      expect.objectContaining({
        ENTITY_TYPE: "user",
        ENTITY_ID: "2",
        ROOT_OBJECT_ID: String(USER_ROOT + 2),
        MODULE_ID: "disk",
      }),
    ]);
    expect(mine.body.total).toBe(1);
    const all = (await f.rest("disk.storage.getlist", {}, employee)).body.result as Storage[];
    expect(all.map((s) => s.ENTITY_TYPE)).toEqual(["common", "user"]); // another user's storage is not listed
    const other = await f.rest("disk.storage.getlist", { filter: { ENTITY_TYPE: "user", ENTITY_ID: 1 } }, employee);
    expect(other.body.result).toEqual([]); // "an empty array means the user does not have access"
    // pages of 50 by `start`, `next` and `total` beside them
    const page1 = (await f.rest("disk.storage.getlist", { filter: { "=ENTITY_TYPE": "user" } }, admin)).body;
    expect(page1).toMatchObject({ total: state().users.size, next: 50 });
    const page2 = (await f.rest("disk.storage.getlist", { filter: { "=ENTITY_TYPE": "user" }, start: 50 }, admin)).body;
    expect([...(page1.result as Storage[]), ...(page2.result as Storage[])].map((s) => s.ENTITY_ID)).toEqual(
      [...state().users.keys()].map(String),
    );
  });
});

describe("disk.folder.uploadfile into a user's Drive", () => {
  it("takes the owner's file and keeps its bytes, a clash renamed with generateUniqueName", async () => {
    const root = USER_ROOT + 2;
    const send = (name: string) =>
      f.rest(
        "disk.folder.uploadfile",
        {
          id: root,
          data: { NAME: name },
          fileContent: [name, Buffer.from("a,b\r\n").toString("base64")],
          generateUniqueName: true,
        },
        employee,
      );
    const first = (await send("report.csv")).body.result as { ID: string; NAME: string; PARENT_ID: string };
    const second = (await send("report.csv")).body.result as { ID: string; NAME: string };
    expect([first.NAME, second.NAME]).toEqual(["report.csv", "report (1).csv"]);
    expect(first.PARENT_ID).toBe(String(root));
    expect(diskFileContent(state(), Number(first.ID))!.toString()).toBe("a,b\r\n");
  });

  it("refuses another user's Drive (the uploader needs the folder's Add permission)", async () => {
    const r = await f.rest(
      "disk.folder.uploadfile",
      { id: USER_ROOT + 1, data: { NAME: "x.csv" }, fileContent: ["x.csv", Buffer.from("x").toString("base64")] },
      employee,
    );
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("ACCESS_DENIED");
  });

  it("keeps a binary file of the two-step upload byte for byte", async () => {
    const step1 = await f.rest("disk.folder.uploadfile", { id: USER_ROOT + 2, generateUniqueName: true }, employee);
    const { field, uploadUrl } = step1.body.result as { field: string; uploadUrl: string };
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)); // every byte value, CR LF too
    const form = new FormData();
    form.set(field, new Blob([bytes]), "report.csv");
    const r = (await (await fetch(uploadUrl, { method: "POST", body: form })).json()) as {
      result: { ID: string; NAME: string; SIZE: string };
    };
    expect(r.result).toMatchObject({ NAME: "report (2).csv", SIZE: String(bytes.length) });
    expect(diskFileContent(state(), Number(r.result.ID))!.equals(bytes)).toBe(true);
  });
});
