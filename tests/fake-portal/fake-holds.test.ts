// The hold control (holds.ts): a crash test's way to know its process is stuck at one call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogEntry } from "./types";
import { startWithRecorder } from "./support";

let f: Awaited<ReturnType<typeof startWithRecorder>>;
beforeAll(async () => {
  f = await startWithRecorder();
  await f.control("install", { mode: "event" });
});
afterAll(() => f.stop());

const lastN = async () => ((await f.control("log", {}, "GET")) as LogEntry[]).at(-1)?.n ?? 0;
/** The first call of `method` logged after entry `since` (GET /_fake/log: it is logged as it arrives). */
async function untilLogged(method: string, since: number) {
  for (;;) {
    const entry = ((await f.control(`log?since=${since}`, {}, "GET")) as LogEntry[]).find((e) => e.rest === method);
    if (entry) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("POST /_fake/hold", () => {
  it("holds the next matching call until released; 'run' then answers it, later calls pass", async () => {
    const { AUTH_ID } = await f.frame();
    await f.control("hold", { method: "crm.deal.list", contains: "TITLE" });
    const other = await f.rest("crm.deal.list", { select: ["ID"], start: -1 }, AUTH_ID!); // does not match: not held
    expect(other.status).toBe(200);
    const since = await lastN();
    const call = f.rest("crm.deal.list", { select: ["ID", "TITLE"], start: -1 }, AUTH_ID!);
    const entry = await untilLogged("crm.deal.list", since);
    expect(entry.status).toBe(0); // arrived, unanswered
    const released = await f.control("release", { method: "crm.deal.list", outcome: "run" });
    expect(released).toMatchObject({ held: true, logN: entry.n, params: { select: ["ID", "TITLE"] }, outcome: "run" });
    expect((await call).status).toBe(200);
    expect((await f.rest("crm.deal.list", { select: ["ID", "TITLE"], start: -1 }, AUTH_ID!)).status).toBe(200);
  });

  it("'drop' closes the connection without running the call", async () => {
    const { AUTH_ID } = await f.frame();
    const title = "never written";
    await f.control("hold", { method: "crm.deal.update" });
    const since = await lastN();
    const call = f.rest("crm.deal.update", { id: 7, fields: { TITLE: title } }, AUTH_ID!).then(
      () => "answered",
      () => "connection closed",
    );
    const entry = await untilLogged("crm.deal.update", since);
    expect(await f.control("release", { method: "crm.deal.update", outcome: "drop" })).toMatchObject({
      held: true,
      logN: entry.n,
    });
    expect(await call).toBe("connection closed");
    expect(((await f.control("crm?entity=deal&id=7", {}, "GET")) as { TITLE: string }).TITLE).not.toBe(title);
  });

  it("a release with no call held disarms the hold, and says so", async () => {
    await f.control("hold", { method: "user.current" });
    expect(await f.control("release", { method: "user.current" })).toEqual({ held: false });
    const { AUTH_ID } = await f.frame();
    expect((await f.rest("user.current", {}, AUTH_ID!)).status).toBe(200);
    expect(await f.control("release", { method: "user.current" })).toMatchObject({ error: "no hold on user.current" });
  });
});
