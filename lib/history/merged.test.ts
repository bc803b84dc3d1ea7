import { describe, expect, it } from "vitest";
import { mergedFrom, type ReadTrigger } from "@/lib/history/merged";

const t0 = new Date("2026-11-30T07:02:00Z");
const t1 = new Date("2026-11-30T07:41:00Z");
const online = (events: number, lastEventAt: Date | null = t1): ReadTrigger => ({
  events,
  offline: false,
  lastEventAt,
});

describe("merged edits", () => {
  it("a sweep or a backfill pass stands for every edit since the snapshot", () => {
    expect(mergedFrom("reconciled", t0, t1)).toEqual(t0);
    expect(mergedFrom("backfill", t0, t1)).toEqual(t0);
  });

  it("one online event whose save the read found is one edit", () => {
    expect(mergedFrom("event", t0, t1, online(1))).toBeNull();
    expect(mergedFrom("event", t0, t1, online(1, new Date(t1.getTime() + 1000)))).toBeNull(); // ts after the save
  });

  it("an offline row, several events, or a save after the newest event: merged", () => {
    expect(mergedFrom("event", t0, t1, { events: 1, offline: true, lastEventAt: null })).toEqual(t0);
    expect(mergedFrom("event", t0, t1, online(2))).toEqual(t0);
    expect(mergedFrom("event", t0, t1, online(1, new Date(t1.getTime() - 1000)))).toEqual(t0); // saved again since
  });

  it("no interval without an earlier modify time", () => {
    expect(mergedFrom("reconciled", null, t1)).toBeNull();
    expect(mergedFrom("reconciled", t1, t1)).toBeNull();
    expect(mergedFrom("event", t0, t1)).toBeNull(); // nothing known about the read: what capture always claimed
  });
});
