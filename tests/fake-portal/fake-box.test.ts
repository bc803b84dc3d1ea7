import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWithRecorder } from "./support";

// The fake's self-hosted mode (box.ts) answers as a box's core does; the cloud portal next to it does not change.
let box: Awaited<ReturnType<typeof startWithRecorder>>;
let cloud: Awaited<ReturnType<typeof startWithRecorder>>;
let token = "";
let cloudToken = "";
beforeAll(async () => {
  [box, cloud] = await Promise.all([
    startWithRecorder({ box: { lang: "ru", absentMethods: ["crm.category.list"] } }),
    startWithRecorder(),
  ]);
  await Promise.all([box.control("install", { mode: "event" }), cloud.control("install", { mode: "event" })]);
  token = (await box.frame()).AUTH_ID!;
  cloudToken = (await cloud.frame()).AUTH_ID!;
});
afterAll(async () => {
  await box.stop();
  await cloud.stop();
});

describe("a self-hosted portal", () => {
  it("lives at a company host, not 127.0.0.1 or *.bitrix24.*", () => {
    expect(box.portal.domain).toMatch(/^localhost:\d+$/);
    expect(box.portal.clientEndpoint).toBe(`http://${box.portal.domain}/rest/`);
  });

  it("app.info: LICENSE <lang>_selfhosted and no LICENSE_TYPE / LICENSE_FAMILY", async () => {
    const { body } = await box.rest("app.info", {}, token);
    expect(body.result).toMatchObject({ LICENSE: "ru_selfhosted", LANGUAGE_ID: "ru", INSTALLED: true });
    expect(Object.keys(body.result as object)).not.toContain("LICENSE_FAMILY");
    expect(Object.keys(body.result as object)).not.toContain("LICENSE_TYPE");
    const cloudInfo = (await cloud.rest("app.info", {}, cloudToken)).body.result as Record<string, unknown>;
    expect(cloudInfo).toMatchObject({ LICENSE: "en_pro", LICENSE_FAMILY: "pro" });
  });

  it("feature.get answers <lang>_selfhosted until a module answers Y or N", async () => {
    expect((await box.rest("feature.get", { CODE: "rest_offline_extended" }, token)).body.result).toEqual({
      value: "ru_selfhosted",
    });
    await box.control("features", { code: "rest_auth_connector", value: "Y" });
    expect((await box.rest("feature.get", { CODE: "rest_auth_connector" }, token)).body.result).toEqual({ value: "Y" });
    expect((await cloud.rest("feature.get", { CODE: "rest_unknown" }, cloudToken)).body.result).toEqual({ value: "N" });
  });

  it("has no module the owner did not install, nor methods newer than its modules", async () => {
    expect((await box.rest("scope", {}, token)).body.result).toEqual(["crm", "placement", "user_brief", "im"]); // no disk
    expect((await box.rest("method.get", { name: "disk.storage.getforapp" }, token)).body.result).toEqual({
      isExisting: false,
      isAvailable: false,
    });
    expect((await box.rest("method.get", { name: "crm.category.list" }, token)).body.result).toEqual({
      isExisting: false,
      isAvailable: false,
    });
    expect(await box.rest("crm.category.list", { entityTypeId: 2 }, token)).toMatchObject({
      status: 404,
      body: { error: "ERROR_METHOD_NOT_FOUND" },
    });
    expect((await cloud.rest("method.get", { name: "crm.category.list" }, cloudToken)).body.result).toEqual({
      isExisting: true,
      isAvailable: true,
    });
  });

  it("lists and serves its own module's methods; a cloud portal has none", async () => {
    const all = (await box.rest("methods", { full: true }, token)).body.result as string[];
    expect(all).toEqual(expect.arrayContaining(["mycompany.ping", "mycompany.deal.audit", "crm.deal.list"]));
    const ours = (await box.rest("methods", {}, token)).body.result as string[];
    expect(ours).toContain("mycompany.ping"); // the global scope: every app may call it
    expect(ours).not.toContain("mycompany.deal.audit"); // the module's own scope, not granted to this app
    expect((await box.rest("method.get", { name: "mycompany.deal.audit" }, token)).body.result).toEqual({
      isExisting: true,
      isAvailable: false,
    });
    expect((await box.rest("scope", { full: true }, token)).body.result).toContain("mycompany");
    expect((await box.rest("mycompany.ping", {}, token)).body.result).toEqual({ pong: true, user: 1 });
    expect(await cloud.rest("mycompany.ping", {}, cloudToken)).toMatchObject({
      status: 404,
      body: { error: "ERROR_METHOD_NOT_FOUND" },
    });
    expect((await cloud.rest("methods", { full: true }, cloudToken)).body.result).not.toContain("mycompany.ping");
  });

  it("has no REST 3.0 address and does not proxy token grants to the OAuth server", async () => {
    const v3 = await fetch(`http://${box.portal.domain}/rest/api/tasks.task.get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: 1, auth: token }),
    });
    expect([v3.status, ((await v3.json()) as { error?: string }).error]).toEqual([404, "ERROR_METHOD_NOT_FOUND"]);
    const grant = await fetch(`http://${box.portal.domain}/oauth/token/?grant_type=refresh_token`);
    expect(grant.status).toBe(404);
    const cloudGrant = await fetch(`${cloud.portal.baseUrl}/oauth/token/?grant_type=refresh_token`);
    expect(cloudGrant.status).not.toBe(404);
  });
});
