import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, keyPaths, startWithRecorder } from "./support";

let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeEach(async () => {
  f = await startWithRecorder();
  await f.control("install", { mode: "event" });
  admin = (await f.frame(1)).AUTH_ID!;
});
afterEach(() => f.stop());

const handler = () => `${f.app.url}/api/bitrix/events`;
const eventsNamed = (name: string) => f.app.received.filter((r) => r.body.event === name);
const strings = (o: unknown): boolean => (typeof o === "object" && o !== null ? Object.values(o).every(strings) : typeof o === "string");

describe("events as Bitrix24 sends them", () => {
  it("ONAPPINSTALL goes to the install handler, form-encoded, with the documented keys and a refresh_token", async () => {
    const install = eventsNamed("ONAPPINSTALL")[0]!;
    expect(install.path).toBe("/api/bitrix/install");
    expect(install.contentType).toBe("application/x-www-form-urlencoded");
    expect(install.raw).toContain("auth%5Bapplication_token%5D=");
    const documented = keyPaths(fixture("events/onappinstall.docs.form.decoded.json"));
    const ours = keyPaths(install.body);
    expect(documented.filter((k) => !ours.includes(k))).toEqual([]);
    expect(ours.filter((k) => !documented.includes(k))).toEqual(["auth.expires", "auth.user_id"]); // present in real captures (CONTRACTS §1.3)
    expect(strings(install.body)).toBe(true);
  });

  it("a CRM edit in the portal UI fires ONCRMDEALUPDATE with the documented shape, no refresh_token", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: handler() }, admin);
    await f.control("crm/deal/7", { fields: { TITLE: "Renamed" }, userId: 2 });
    await f.waitFor(() => eventsNamed("ONCRMDEALUPDATE").length === 1);
    const got = eventsNamed("ONCRMDEALUPDATE")[0]!.body;
    const documented = keyPaths(fixture("events/oncrmdealupdate.docs.form.decoded.json")).filter((k) => k !== "auth.refresh_token");
    expect(documented.filter((k) => !keyPaths(got).includes(k))).toEqual([]);
    expect(got).toMatchObject({ data: { FIELDS: { ID: "7" } }, auth: { user_id: "2", member_id: f.portal.memberId } });
    expect((got.auth as Record<string, string>).refresh_token).toBeUndefined();
  });

  it("sends nothing before the install is finished", async () => {
    const g = await startWithRecorder();
    try {
      await g.control("install", { mode: "ui" });
      const token = (await g.frame(1)).AUTH_ID!;
      await g.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: `${g.app.url}/e` }, token);
      await g.control("crm/deal/1", { fields: { TITLE: "x" } });
      await new Promise((r) => setTimeout(r, 200));
      expect(g.app.received.filter((r) => r.body.event === "ONCRMDEALUPDATE")).toHaveLength(0);
      expect(g.app.received[0]!.body).toMatchObject({ PLACEMENT: "DEFAULT", member_id: g.portal.memberId });
    } finally {
      await g.stop();
    }
  });

  it("ONAPPUNINSTALL carries CLEAN and no OAuth tokens; bindings and tokens are gone afterwards", async () => {
    await f.rest("event.bind", { event: "ONAPPUNINSTALL", handler: handler() }, admin);
    await f.control("uninstall", { clean: true });
    const got = eventsNamed("ONAPPUNINSTALL")[0]!.body;
    expect(keyPaths(got).sort()).toEqual([...keyPaths(fixture("events/onappuninstall.docs.form.decoded.json")), "event_handler_id"].sort());
    expect(got.data).toMatchObject({ CLEAN: "1" });
    expect((await f.rest("user.current", {}, admin)).body.error).toBe("invalid_token");
  });

  it("an update drops the app's event bindings and sends ONAPPUPDATE with a refresh_token", async () => {
    await f.rest("event.bind", { event: "ONAPPUPDATE", handler: handler() }, admin);
    await f.rest("event.bind", { event: "ONCRMDEALADD", handler: handler() }, admin);
    await f.control("update", { version: 2 });
    const got = eventsNamed("ONAPPUPDATE")[0]!.body;
    expect(got.data).toMatchObject({ VERSION: "2", PREVIOUS_VERSION: "1" });
    expect((got.auth as Record<string, string>).refresh_token).toBeTruthy();
    expect((await f.rest("event.get", {}, admin)).body.result).toEqual([]);
  });
});

describe("offline queue", () => {
  it("claims disjoint batches with process_id, clears and marks errors", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline" }, admin);
    for (let id = 1; id <= 6; id++) await f.control(`crm/deal/${id}`, { fields: { TITLE: `t${id}` } });
    await f.control("crm/deal/1", { fields: { TITLE: "again" } }); // latest state per object: still one entry
    const a = (await f.rest("event.offline.get", { clear: 0, limit: 4 }, admin)).body.result as { process_id: string; events: { ID: string; MESSAGE_ID: string; EVENT_DATA: unknown }[] };
    const b = (await f.rest("event.offline.get", { clear: 0, limit: 4 }, admin)).body.result as typeof a;
    expect(a.events).toHaveLength(4);
    expect(b.events).toHaveLength(2);
    expect(a.events.map((e) => e.ID).filter((id) => b.events.some((x) => x.ID === id))).toEqual([]);
    expect(Object.keys(a.events[0]!).sort()).toEqual(Object.keys(fixture("events-api/event.offline.get.response.docs.json").result.events[0]).sort());
    expect(a.events[0]!.MESSAGE_ID).toHaveLength(32);
    // a crash before clear loses nothing: the reserved batch can be re-read by its process_id
    const again = (await f.rest("event.offline.get", { clear: 0, process_id: a.process_id }, admin)).body.result as typeof a;
    expect(again.events.map((e) => e.ID)).toEqual(a.events.map((e) => e.ID));
    await f.rest("event.offline.clear", { process_id: a.process_id }, admin);
    await f.rest("event.offline.error", { process_id: b.process_id, message_id: [b.events[0]!.MESSAGE_ID] }, admin);
    const list = (await f.rest("event.offline.list", {}, admin)).body;
    expect(list.total).toBe(2);
    const errored = (await f.rest("event.offline.get", { clear: 0, error: 1 }, admin)).body.result as typeof a;
    expect(errored.events).toHaveLength(1);
  });

  it("a write made with our auth_connector raises no offline event for that connector", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline", auth_connector: "history" }, admin);
    await f.rest("crm.deal.update", { id: 3, fields: { TITLE: "ours" }, auth_connector: "history" }, admin);
    expect((await f.rest("event.offline.get", { clear: 0, auth_connector: "history" }, admin)).body.result).toMatchObject({ events: [] });
    await f.rest("crm.deal.update", { id: 3, fields: { TITLE: "someone else" } }, admin);
    expect(((await f.rest("event.offline.get", { clear: 0, auth_connector: "history" }, admin)).body.result as { events: unknown[] }).events).toHaveLength(1);
  });

  it("notifies with ONOFFLINEEVENT (no data key) at most once per minTimeout", async () => {
    await f.rest("event.bind", { event: "ONOFFLINEEVENT", handler: handler(), options: { minTimeout: 30 } }, admin);
    await f.rest("event.bind", { event: "ONCRMDEALADD", event_type: "offline" }, admin);
    await f.rest("crm.deal.add", { fields: { TITLE: "a" } }, admin);
    await f.rest("crm.deal.add", { fields: { TITLE: "b" } }, admin);
    await f.waitFor(() => eventsNamed("ONOFFLINEEVENT").length === 1);
    await new Promise((r) => setTimeout(r, 100));
    const notes = eventsNamed("ONOFFLINEEVENT");
    expect(notes).toHaveLength(1);
    expect("data" in notes[0]!.body).toBe(false);
    expect((notes[0]!.body.auth as Record<string, string>).refresh_token).toBeTruthy();
  });
});

describe("method confirmation", () => {
  it("waits, then fires ONAPPMETHODCONFIRM and allows only that token", async () => {
    await f.rest("event.bind", { event: "ONAPPMETHODCONFIRM", handler: handler() }, admin);
    await f.control("methods", { name: "crm.deal.delete", confirm: "required" });
    expect(await f.rest("crm.deal.delete", { id: 9 }, admin)).toEqual({ status: 401, body: fixture("rest/errors/401.METHOD_CONFIRM_WAITING.docs.json") });
    await f.control("confirm", { method: "crm.deal.delete", confirmed: true });
    const got = eventsNamed("ONAPPMETHODCONFIRM")[0]!.body;
    expect(keyPaths(got).sort()).toEqual([...keyPaths(fixture("events/onappmethodconfirm.docs.form.decoded.json")), "event_handler_id"].sort());
    expect(got.data).toMatchObject({ TOKEN: admin, METHOD: "crm.deal.delete", CONFIRMED: "1" });
    expect((await f.rest("crm.deal.delete", { id: 9 }, admin)).status).toBe(200);
    const fresh = (await f.frame(1)).AUTH_ID!;
    expect((await f.rest("crm.deal.delete", { id: 10 }, fresh)).body.error).toBe("METHOD_CONFIRM_WAITING");
    await f.control("confirm", { method: "crm.deal.delete", confirmed: false });
    expect(await f.rest("crm.deal.delete", { id: 10 }, fresh)).toEqual({ status: 403, body: fixture("rest/errors/403.METHOD_CONFIRM_DENIED.docs.json") });
  });
});
