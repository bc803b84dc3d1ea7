import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, keyPaths, startInstalled, startWithRecorder } from "./support";

let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeEach(async () => ({ f, admin } = await startInstalled()));
afterEach(() => f.stop());

const handler = () => `${f.app.url}/api/bitrix/events`;
const eventsNamed = (name: string) => f.app.received.filter((r) => r.body.event === name);
const strings = (o: unknown): boolean =>
  typeof o === "object" && o !== null ? Object.values(o).every(strings) : typeof o === "string";

describe("events as Bitrix24 sends them", () => {
  it("ONAPPINSTALL goes to the install handler, form-encoded, with the documented keys and a refresh_token", async () => {
    const install = eventsNamed("ONAPPINSTALL")[0]!;
    expect(install.path).toBe("/api/bitrix/install");
    expect(install.contentType).toBe("application/x-www-form-urlencoded");
    expect(install.raw).toContain("auth%5Bapplication_token%5D=");
    const documented = keyPaths(fixture("events/onappinstall.docs.form.decoded.json"));
    const ours = keyPaths(install.body);
    expect(documented.filter((k) => !ours.includes(k))).toEqual([]);
    // auth.expires and auth.user_id: present in real captures (docs/bitrix24.md#install)
    expect(ours.filter((k) => !documented.includes(k))).toEqual(["auth.expires", "auth.user_id"]);
    expect(strings(install.body)).toBe(true);
  });

  it("a CRM edit in the portal UI fires ONCRMDEALUPDATE with the documented shape, no refresh_token", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: handler() }, admin);
    await f.control("crm/deal/7", { fields: { TITLE: "Renamed" }, userId: 2 });
    await f.waitFor(() => eventsNamed("ONCRMDEALUPDATE").length === 1);
    const got = eventsNamed("ONCRMDEALUPDATE")[0]!.body;
    const documented = keyPaths(fixture("events/oncrmdealupdate.docs.form.decoded.json")).filter(
      (k) => k !== "auth.refresh_token",
    );
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
      // A later event as the marker, not a wait: once deal 2's update (after the finish) has arrived, deal 1's
      // (before it) would have too, had it been sent.
      await g.control("install-finish");
      await g.control("crm/deal/2", { fields: { TITLE: "y" } });
      const updates = () => g.app.received.filter((r) => r.body.event === "ONCRMDEALUPDATE");
      await g.waitFor(() => updates().length > 0);
      expect(updates().map((r) => (r.body.data as { FIELDS: { ID: string } }).FIELDS.ID)).toEqual(["2"]);
      expect(g.app.received[0]!.body).toMatchObject({ PLACEMENT: "DEFAULT", member_id: g.portal.memberId });
    } finally {
      await g.stop();
    }
  });

  it("ONAPPUNINSTALL carries CLEAN and no OAuth tokens; bindings and tokens are gone afterwards", async () => {
    await f.rest("event.bind", { event: "ONAPPUNINSTALL", handler: handler() }, admin);
    await f.control("uninstall", { clean: true });
    const got = eventsNamed("ONAPPUNINSTALL")[0]!.body;
    expect(keyPaths(got).sort()).toEqual(
      [...keyPaths(fixture("events/onappuninstall.docs.form.decoded.json")), "event_handler_id"].sort(),
    );
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
    const a = (await f.rest("event.offline.get", { clear: 0, limit: 4 }, admin)).body.result as {
      process_id: string;
      events: { ID: string; MESSAGE_ID: string; EVENT_DATA: unknown }[];
    };
    const b = (await f.rest("event.offline.get", { clear: 0, limit: 4 }, admin)).body.result as typeof a;
    expect(a.events).toHaveLength(4);
    expect(b.events).toHaveLength(2);
    expect(a.events.map((e) => e.ID).filter((id) => b.events.some((x) => x.ID === id))).toEqual([]);
    expect(Object.keys(a.events[0]!).sort()).toEqual(
      Object.keys(fixture("events-api/event.offline.get.response.docs.json").result.events[0]).sort(),
    );
    expect(a.events[0]!.MESSAGE_ID).toHaveLength(32);
    // a crash before clear loses nothing: the reserved batch can be re-read by its process_id
    const again = (await f.rest("event.offline.get", { clear: 0, process_id: a.process_id }, admin)).body
      .result as typeof a;
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
    expect(
      (await f.rest("event.offline.get", { clear: 0, auth_connector: "history" }, admin)).body.result,
    ).toMatchObject({ events: [] });
    await f.rest("crm.deal.update", { id: 3, fields: { TITLE: "someone else" } }, admin);
    expect(
      (
        (await f.rest("event.offline.get", { clear: 0, auth_connector: "history" }, admin)).body.result as {
          events: unknown[];
        }
      ).events,
    ).toHaveLength(1);
  });

  it("notifies with ONOFFLINEEVENT (no data key) at most once per minTimeout", async () => {
    await f.rest("event.bind", { event: "ONOFFLINEEVENT", handler: handler(), options: { minTimeout: 30 } }, admin);
    await f.rest("event.bind", { event: "ONCRMDEALADD", event_type: "offline" }, admin);
    await f.rest("crm.deal.add", { fields: { TITLE: "a" } }, admin);
    await f.rest("crm.deal.add", { fields: { TITLE: "b" } }, admin);
    await f.waitFor(() => eventsNamed("ONOFFLINEEVENT").length === 1);
    // A later online event as the marker: sent after the second add, it arrives after any notification of it would.
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: handler() }, admin);
    await f.rest("crm.deal.update", { id: 1, fields: { TITLE: "marker" } }, admin);
    await f.waitFor(() => eventsNamed("ONCRMDEALUPDATE").length === 1);
    const notes = eventsNamed("ONOFFLINEEVENT");
    expect(notes).toHaveLength(1);
    expect("data" in notes[0]!.body).toBe(false);
    expect((notes[0]!.body.auth as Record<string, string>).refresh_token).toBeTruthy();
  });
});

describe("offline error rows, as core keeps them (eventoffline.php)", () => {
  type Batch = { process_id: string | null; events: { ID: string; MESSAGE_ID: string; EVENT_DATA: unknown }[] };
  const get = async (params: Record<string, unknown>) =>
    (await f.rest("event.offline.get", { clear: 0, ...params }, admin)).body.result as Batch;
  const markError = (b: Batch) =>
    f.rest("event.offline.error", { process_id: b.process_id, message_id: [b.events[0]!.MESSAGE_ID] }, admin);

  it("a later event for an object marked as error merges into the error row: only error=1 returns it", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline" }, admin);
    await f.control("crm/deal/7", { fields: { TITLE: "first" } });
    const taken = await get({});
    await markError(taken);
    await f.control("crm/deal/7", { fields: { TITLE: "second" } });
    expect((await get({})).events).toEqual([]);
    const errors = await get({ error: 1 });
    expect(errors.events).toHaveLength(1);
    expect(errors.events[0]!.ID).toBe(taken.events[0]!.ID); // merged: the same row, not a new one
    // a reserved batch of error rows is re-read only with error=1 again (event.php eventOfflineGet)
    expect((await get({ process_id: errors.process_id })).events).toEqual([]);
    expect((await get({ process_id: errors.process_id, error: 1 })).events).toHaveLength(1);
    // marking an error row again changes nothing: it stays reserved by its process
    await markError(errors);
    expect((await get({ error: 1 })).events).toEqual([]);
    expect((await get({ process_id: errors.process_id, error: 1 })).events).toHaveLength(1);
  });

  it("marking an error drops a newer unreserved event for the same object (the error row stands for it)", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline" }, admin);
    await f.control("crm/deal/8", { fields: { TITLE: "first" } });
    const taken = await get({});
    await f.control("crm/deal/8", { fields: { TITLE: "second" } }); // a new row: the first one is reserved
    await markError(taken);
    expect((await get({})).events).toEqual([]);
    expect((await get({ error: 1 })).events).toHaveLength(1);
  });
});

describe("binding twice", () => {
  it("answers ERROR_CORE 'Unable to set … handler: Handler already binded' for events and placements", async () => {
    const bind = { event: "ONCRMDEALUPDATE", handler: handler() };
    expect((await f.rest("event.bind", bind, admin)).status).toBe(200);
    const refused = (what: string) => ({
      status: 400,
      body: { error: "ERROR_CORE", error_description: `Unable to set ${what} handler: Handler already binded` },
    });
    expect(await f.rest("event.bind", bind, admin)).toEqual(refused("event"));
    const place = { PLACEMENT: "CRM_DEAL_DETAIL_TAB", HANDLER: `${f.app.url}/bitrix/placement` };
    expect((await f.rest("placement.bind", place, admin)).status).toBe(200);
    expect(await f.rest("placement.bind", place, admin)).toEqual(refused("placement"));
  });
});

describe("events no user acted for", () => {
  const auth = (r: { body: Record<string, unknown> }) => r.body.auth as Record<string, string>;

  it("a robot's edit (no user) sends only domain, member_id, application_token and endpoints", async () => {
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: handler() }, admin);
    await f.control("crm/deal/5", { fields: { TITLE: "by a robot" }, userId: 0 });
    await f.waitFor(() => eventsNamed("ONCRMDEALUPDATE").length === 1);
    expect(Object.keys(auth(eventsNamed("ONCRMDEALUPDATE")[0]!)).sort()).toEqual([
      "application_token",
      "client_endpoint",
      "domain",
      "member_id",
      "server_endpoint",
    ]);
  });

  it("ONOFFLINEEVENT carries the acting user's tokens, or none when no user acted", async () => {
    await f.rest("event.bind", { event: "ONOFFLINEEVENT", handler: handler(), options: { minTimeout: 1 } }, admin);
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline" }, admin);
    await f.control("crm/deal/5", { fields: { TITLE: "by Boris" }, userId: 2 });
    await f.waitFor(() => eventsNamed("ONOFFLINEEVENT").length === 1);
    expect(auth(eventsNamed("ONOFFLINEEVENT")[0]!)).toMatchObject({ user_id: "2" });
    expect(auth(eventsNamed("ONOFFLINEEVENT")[0]!).refresh_token).toBeTruthy();
    await f.control("clock", { advance: 2 });
    await f.control("crm/deal/5", { fields: { TITLE: "by a robot" }, userId: 0 });
    await f.waitFor(() => eventsNamed("ONOFFLINEEVENT").length === 2);
    expect(auth(eventsNamed("ONOFFLINEEVENT")[1]!).access_token).toBeUndefined();
  });

  it("throttles ONOFFLINEEVENT per binding by its own minTimeout", async () => {
    const notify = (tail: string, minTimeout: number) =>
      f.rest("event.bind", { event: "ONOFFLINEEVENT", handler: `${handler()}${tail}`, options: { minTimeout } }, admin);
    await notify("?a", 30);
    await notify("?b", 60);
    await f.rest("event.bind", { event: "ONCRMDEALUPDATE", event_type: "offline" }, admin);
    await f.control("reset-counters");
    const delivered = async () =>
      ((await f.control("counters", {}, "GET")) as { eventsDelivered: number }).eventsDelivered;
    await f.control("crm/deal/5", { fields: { TITLE: "1" } });
    await f.control("crm/deal/6", { fields: { TITLE: "2" } });
    expect(await delivered()).toBe(2); // one per binding, however many events
    await f.control("clock", { advance: 31 });
    await f.control("crm/deal/7", { fields: { TITLE: "3" } });
    expect(await delivered()).toBe(3); // ?a's window passed, ?b's has not
    await f.control("clock", { advance: 30 });
    await f.control("crm/deal/8", { fields: { TITLE: "4" } });
    expect(await delivered()).toBe(5);
  });
});

describe("method confirmation", () => {
  it("waits, then fires ONAPPMETHODCONFIRM and allows only that token", async () => {
    await f.rest("event.bind", { event: "ONAPPMETHODCONFIRM", handler: handler() }, admin);
    await f.control("methods", { name: "crm.deal.delete", confirm: "required" });
    expect(await f.rest("crm.deal.delete", { id: 9 }, admin)).toEqual({
      status: 401,
      body: fixture("rest/errors/401.METHOD_CONFIRM_WAITING.docs.json"),
    });
    await f.control("confirm", { method: "crm.deal.delete", confirmed: true });
    const got = eventsNamed("ONAPPMETHODCONFIRM")[0]!.body;
    expect(keyPaths(got).sort()).toEqual(
      [...keyPaths(fixture("events/onappmethodconfirm.docs.form.decoded.json")), "event_handler_id"].sort(),
    );
    expect(got.data).toMatchObject({ TOKEN: admin, METHOD: "crm.deal.delete", CONFIRMED: "1" });
    expect((await f.rest("crm.deal.delete", { id: 9 }, admin)).status).toBe(200);
    const fresh = (await f.frame(1)).AUTH_ID!;
    expect((await f.rest("crm.deal.delete", { id: 10 }, fresh)).body.error).toBe("METHOD_CONFIRM_WAITING");
    await f.control("confirm", { method: "crm.deal.delete", confirmed: false });
    expect(await f.rest("crm.deal.delete", { id: 10 }, fresh)).toEqual({
      status: 403,
      body: fixture("rest/errors/403.METHOD_CONFIRM_DENIED.docs.json"),
    });
  });
});
