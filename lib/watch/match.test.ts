import type { WatchRule } from "@prisma/client";
import { describe, expect, it } from "vitest";
import { matchRules, type StoredChange } from "@/lib/watch/match";

const rule = (over: Partial<WatchRule>): WatchRule => ({
  id: "r",
  portalId: "p",
  createdById: 3,
  scope: "personal",
  name: "R",
  entityType: "deal",
  fields: [],
  condition: "changed",
  onlyMine: false,
  notifyResponsible: false,
  triggerCode: null,
  lang: "en",
  active: true,
  createdAt: new Date(),
  ...over,
});
const change = (over: Partial<StoredChange>): StoredChange => ({
  entityType: "deal",
  entityId: 5,
  field: "COMMENTS",
  oldValue: "a",
  newValue: "b",
  changedById: 2,
  changedAt: new Date("2026-12-01T10:00:00Z"),
  source: "event",
  ...over,
});
const records = new Map([[5, { ASSIGNED_BY_ID: "3" }]]);

describe("matchRules", () => {
  it("tells a person once per change, naming every rule that asked", () => {
    const rules = [
      rule({ id: "a", name: "Comments" }),
      rule({ id: "b", name: "Everything" }),
      rule({ id: "c", name: "Portal", scope: "portal", createdById: 1, notifyResponsible: true, triggerCode: "chb_x" }),
    ];
    const out = matchRules(rules, [change({})], records);
    expect(out.filter((d) => d.to === 3)).toEqual([
      expect.objectContaining({ ruleName: "Comments, Everything, Portal" }),
    ]);
    expect(out.filter((d) => d.triggerCode)).toEqual([expect.objectContaining({ triggerCode: "chb_x", to: null })]);
  });

  it("keeps to its fields, condition, scope and news", () => {
    expect(matchRules([rule({ fields: ["TITLE"] })], [change({})], records)).toEqual([]);
    expect(matchRules([rule({ condition: "cleared" })], [change({})], records)).toEqual([]);
    expect(matchRules([rule({ condition: "cleared" })], [change({ newValue: "" })], records)).toHaveLength(1);
    expect(matchRules([rule({ onlyMine: true, createdById: 4 })], [change({})], records)).toEqual([]);
    expect(matchRules([rule({})], [change({ changedById: 3 })], records)).toEqual([]); // their own edit
    expect(matchRules([rule({})], [change({ source: "backfill" })], records)).toEqual([]);
    expect(matchRules([rule({})], [change({ field: "__record__" })], records)).toEqual([]);
    expect(matchRules([rule({ entityType: "lead" })], [change({})], records)).toEqual([]);
  });

  it("tells nobody while the portal's notifications are paused, but still runs the triggers", () => {
    const rules = [
      rule({ id: "a" }),
      rule({ id: "c", scope: "portal", createdById: 1, notifyResponsible: true, triggerCode: "chb_x" }),
    ];
    expect(matchRules(rules, [change({})], records, { paused: true })).toEqual([
      expect.objectContaining({ to: null, triggerCode: "chb_x" }),
    ]);
  });
});
