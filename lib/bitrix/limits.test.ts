import { describe, expect, it } from "vitest";
import { encodePhpQuery } from "@/lib/bitrix/php-query";
import { laneCapacity, limitBackoffMs, secondsUntilRoom } from "@/lib/bitrix/limits";
import { endpointFor } from "@/lib/bitrix/client";

describe("limits", () => {
  it("keeps slots for interactive calls that background work cannot take", () => {
    expect(laneCapacity(50, "interactive")).toBe(49);
    expect(laneCapacity(50, "background")).toBe(44);
    expect(laneCapacity(250, "background")).toBe(224);
    expect(secondsUntilRoom(44, 50, 2, "background")).toBeCloseTo(0.5);
    expect(secondsUntilRoom(44, 50, 2, "interactive")).toBe(0);
  });

  it("lets live capture past a backfill's share, and a user's click past both", () => {
    expect(laneCapacity(50, "capture")).toBe(47);
    expect(laneCapacity(250, "capture")).toBe(237);
    expect(laneCapacity(3, "capture")).toBe(1);
    expect(secondsUntilRoom(44, 50, 2, "capture")).toBe(0);
    expect(secondsUntilRoom(47, 50, 2, "capture")).toBeCloseTo(0.5);
  });

  it("backs off exponentially with jitter and a cap", () => {
    expect(limitBackoffMs(0, () => 0)).toBe(500);
    expect(limitBackoffMs(0, () => 1)).toBe(1000);
    expect(limitBackoffMs(3, () => 1)).toBe(8000);
    expect(limitBackoffMs(20, () => 1)).toBe(30_000);
  });
});

describe("request building", () => {
  it("never produces /rest//method", () => {
    expect(endpointFor("http://127.0.0.1:1/rest/", "crm.deal.get")).toBe("http://127.0.0.1:1/rest/crm.deal.get");
    expect(endpointFor("http://127.0.0.1:1/rest", "crm.deal.get")).toBe("http://127.0.0.1:1/rest/crm.deal.get");
    expect(endpointFor("http://127.0.0.1:1/rest/", "tasks.task.get", 3)).toBe(
      "http://127.0.0.1:1/rest/api/tasks.task.get",
    );
  });

  it("encodes batch sub-commands like PHP http_build_query, keeping $result references literal", () => {
    expect(encodePhpQuery({ fields: { TITLE: "John&Martin", PHONE: [{ VALUE: "+1", VALUE_TYPE: "WORK" }] } })).toBe(
      "fields[TITLE]=John%26Martin&fields[PHONE][0][VALUE]=%2B1&fields[PHONE][0][VALUE_TYPE]=WORK",
    );
    expect(encodePhpQuery({ ID: "$result[get_user][UF_DEPARTMENT][0]", skip: null, flag: true })).toBe(
      "ID=$result[get_user][UF_DEPARTMENT][0]&flag=1",
    );
  });
});
