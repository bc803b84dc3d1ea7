import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInstalled, startWithRecorder } from "./support";

// The fake's lost deliveries and date filters, which the reconciliation tests (tests/integration/reconcile.test.ts)
// stand on: a share of online deliveries dropped deterministically, never by chance, and `>=DATE_MODIFY` comparing
// instants whatever offset they are written in.
let f: Awaited<ReturnType<typeof startWithRecorder>>;
let admin: string;
beforeAll(async () => {
  ({ f, admin } = await startInstalled());
  await f.rest("event.bind", { event: "ONCRMDEALUPDATE", handler: `${f.app.url}/api/bitrix/events` }, admin);
});
afterAll(() => f.stop());

const updates = () => f.app.received.filter((r) => r.body.event === "ONCRMDEALUPDATE");
const dropped = async () => ((await f.control("counters", {}, "GET")) as { eventsDropped: number }).eventsDropped;

describe("dropped deliveries", () => {
  it("drops exactly the given share of online deliveries: a quarter of 8 is 2, every 4th", async () => {
    await f.control("faults", { dropEvents: 0.25 });
    const before = await dropped();
    for (let id = 1; id <= 8; id++) await f.control(`crm/deal/${id}`, { fields: { TITLE: `edit ${id}` }, userId: 2 });
    expect((await dropped()) - before).toBe(2);
    await f.waitFor(() => updates().length === 6);
    const ids = updates().map((r) => Number((r.body.data as { FIELDS: { ID: string } }).FIELDS.ID));
    const missing = [1, 2, 3, 4, 5, 6, 7, 8].filter((id) => !ids.includes(id));
    expect(missing).toHaveLength(2);
    expect(missing[1]! - missing[0]!).toBe(4);
    await f.control("faults", { dropEvents: 0 });
  });
});

describe("list filters on dates", () => {
  it("compares >=DATE_MODIFY as instants, across offsets", async () => {
    const edit = await f.control("crm/deal/50", { fields: { TITLE: "recent" }, userId: 2 });
    const edited = edit as { record: { DATE_MODIFY: string } };
    const at = Date.parse(edited.record.DATE_MODIFY);
    const utc = (ms: number) => new Date(ms).toISOString().replace(".000Z", "+00:00");
    const list = async (since: string) => {
      const filter = { ">=DATE_MODIFY": since, ">ID": 40 };
      const res = await f.rest("crm.deal.list", { filter, select: ["ID"], start: -1 }, admin);
      return (res.body.result as { ID: string }[]).map((r) => Number(r.ID));
    };
    expect(await list(utc(at))).toEqual([50]); // the same instant, written in UTC: >= holds
    expect(await list(utc(at + 1000))).toEqual([]);
    expect(await list(utc(at - 1000))).toEqual([50]);
  });
});
