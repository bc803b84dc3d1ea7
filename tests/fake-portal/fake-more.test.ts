import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, startInstalled, startWithRecorder } from "./support";

let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeAll(async () => ({ f, admin } = await startInstalled()));
afterAll(() => f.stop());
const strip = (o: Record<string, unknown>) => {
  const { auth: _a, ...rest } = o;
  return rest;
};

describe("authorization-code flow", () => {
  it("redirects back with the documented parameters and exchanges the code once", async () => {
    const res = await fetch(`${f.portal.baseUrl}/oauth/authorize/?client_id=app.test&state=JJHg`, {
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location")!);
    const documented = new URL(
      readFileSync(
        path.resolve(import.meta.dirname, "../fixtures/oauth/authorize.redirect-with-code.docs.txt"),
        "utf8",
      ).trim(),
    );
    expect([...back.searchParams.keys()].sort()).toEqual([...documented.searchParams.keys()].sort());
    const grant = (code: string) =>
      fetch(
        `${f.running.oauthUrl}/oauth/token/?grant_type=authorization_code&client_id=app.test&client_secret=secret&code=${code}`,
      ).then((r) => r.json() as Promise<Record<string, unknown>>);
    const first = await grant(back.searchParams.get("code")!);
    expect(Object.keys(first).sort()).toEqual(
      Object.keys(fixture("oauth/token.refresh_token.response.docs.json")).sort(),
    );
    expect((await grant(back.searchParams.get("code")!)).error).toBe("invalid_grant");
  });
});

describe("files", () => {
  it("uploads to Drive directly with fileContent, as documented", async () => {
    const body = {
      ...strip(fixture("files/disk.folder.uploadFile.direct.request.docs.json")),
      fileContent: ["test.png", Buffer.from("png").toString("base64")],
    };
    const r = await f.rest("disk.folder.uploadfile", body, admin);
    expect(Object.keys(r.body.result as object).sort()).toEqual(
      Object.keys(fixture("files/disk.folder.uploadFile.response.docs.json").result).sort(),
    );
  });

  it("uploads in two steps: uploadUrl, then a multipart POST", async () => {
    const step1 = await f.rest(
      "disk.folder.uploadfile",
      strip(fixture("files/disk.folder.uploadFile.step1.request.docs.json")),
      admin,
    );
    const r1 = step1.body.result as { field: string; uploadUrl: string };
    expect(Object.keys(r1).sort()).toEqual(["field", "uploadUrl"]);
    const form = new FormData();
    form.set(r1.field, new Blob([Buffer.from("hello")]), "hello.txt");
    const step2 = await fetch(r1.uploadUrl, { method: "POST", body: form });
    expect(((await step2.json()) as { result: { NAME: string; SIZE: string } }).result).toMatchObject({
      NAME: "hello.txt",
      SIZE: "5",
    });
  });

  it("adds a timeline comment with [name, base64] file pairs", async () => {
    const r = await f.rest(
      "crm.timeline.comment.add",
      {
        fields: {
          ENTITY_ID: 3,
          ENTITY_TYPE: "deal",
          COMMENT: "History",
          FILES: [["history.csv", Buffer.from("a,b\n1,2").toString("base64")]],
        },
      },
      admin,
    );
    expect(r.status).toBe(200);
    const timeline = (await f.control("timeline", {}, "GET")) as { FILES: { name: string; size: number }[] }[];
    expect(timeline.at(-1)!.FILES).toEqual([{ name: "history.csv", size: 7 }]);
    expect(
      (
        await f.rest(
          "crm.timeline.comment.add",
          { fields: { ENTITY_ID: 3, ENTITY_TYPE: "deal", FILES: ["just-a-string"] } },
          admin,
        )
      ).status,
    ).toBe(400);
  });
});

describe("methods the app needs", () => {
  it("answers users, profile, options and placements with documented shapes and errors", async () => {
    const profile = await f.rest("profile", {}, admin);
    expect(
      Object.keys(fixture("capability/profile.response.docs.json").result).every(
        (k) => k in (profile.body.result as object),
      ),
    ).toBe(true);
    expect((await f.rest("user.get", { ID: [2] }, admin)).body.result).toMatchObject([{ ID: "2" }]);
    expect((await f.rest("user.admin", {}, (await f.frame(2)).AUTH_ID!)).body.result).toBe(false);
    await f.rest("app.option.set", { options: { mode: "full" } }, admin);
    expect((await f.rest("app.option.get", { option: "mode" }, admin)).body.result).toBe("full");
    expect(await f.rest("placement.bind", { HANDLER: "https://app.example/x" }, admin)).toEqual({
      status: 400,
      body: fixture("placements/placement.bind.error.ERROR_ARGUMENT.docs.json"),
    });
    expect(
      (
        await f.rest(
          "placement.bind",
          { PLACEMENT: "CRM_DEAL_DETAIL_TAB", HANDLER: "https://app.example/x", TITLE: "T" },
          admin,
        )
      ).body.result,
    ).toBe(true);
    const got = (await f.rest("placement.get", {}, admin)).body.result as Record<string, unknown>[];
    expect(Object.keys(got[0]!).sort()).toEqual(
      Object.keys(fixture("placements/placement.get.response.docs.json").result[0]).sort(),
    );
    expect((await f.rest("placement.unbind", { PLACEMENT: "CRM_DEAL_DETAIL_TAB" }, admin)).body.result).toEqual({
      count: 1,
    });
  });

  it("duplicates deliveries when told to, and adds latency", async () => {
    await f.rest("event.bind", { event: "ONCRMLEADUPDATE", handler: `${f.app.url}/dup` }, admin);
    await f.control("faults", { duplicateEvents: 1, latencyMs: [150, 160] });
    const started = Date.now();
    await f.rest("crm.lead.update", { id: 1, fields: { TITLE: "dup" } }, admin);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await f.waitFor(() => f.app.received.filter((r) => r.body.event === "ONCRMLEADUPDATE").length === 2);
    await f.control("faults", { duplicateEvents: 0, latencyMs: [0, 0] });
  });
});

describe("user.get as Bitrix24 answers it (user-get.md)", () => {
  type Users = { status: number; body: { result: Record<string, unknown>[]; total?: number; next?: number } };
  const users = async (params: Record<string, unknown>, token = admin) =>
    (await f.rest("user.get", params, token)) as Users;

  it("pages by 50 (total/next), returns dismissed users unless ACTIVE is set, no EMAIL under user_brief", async () => {
    const first = await users({});
    expect(first.body.result).toHaveLength(50);
    expect(first.body).toMatchObject({ total: 62, next: 50 });
    const second = await users({ start: 50 });
    expect(second.body.result.map((u) => u.ID)).toContain("61");
    expect(second.body.next).toBeUndefined();
    expect(first.body.result.every((u) => !("EMAIL" in u))).toBe(true);
    expect((await users({ FILTER: { ID: [61, 2] } })).body.result.map((u) => u.ID)).toEqual(["2", "61"]);
    expect((await users({ FILTER: { ID: [61, 2], ACTIVE: true } })).body.result.map((u) => u.ID)).toEqual(["2"]);
  });

  it("hides extranet users from a non-admin intranet caller", async () => {
    expect((await users({ ID: [62] })).body.result).toMatchObject([{ ID: "62", USER_TYPE: "extranet" }]);
    expect((await users({ ID: [62] }, (await f.frame(2)).AUTH_ID!)).body.result).toEqual([]);
  });
});
