import { describe, expect, it } from "vitest";
import { encodePhpQuery } from "@/lib/bitrix/php-query";
import { laneCapacity, limitBackoffMs, secondsUntilRoom } from "@/lib/bitrix/limits";
import { endpointFor } from "@/lib/bitrix/client";

describe("limits", () => {
  // Background work stops short of a bucket's top so live capture and a user's click get past it; capture stops short
  // of the click. At 44 of 50 only background work waits; a lane at its own capacity waits one slot (0.5 s at 2/s).
  it.each([
    { lane: "interactive", at50: 49, at250: 249, at3: 2, waitAt44: 0 },
    { lane: "capture", at50: 47, at250: 237, at3: 1, waitAt44: 0 },
    { lane: "background", at50: 44, at250: 224, at3: 1, waitAt44: 0.5 },
  ] as const)(
    "gives the $lane lane $at50 of 50 slots, $at250 of 250, $at3 of 3",
    ({ lane, at50, at250, at3, waitAt44 }) => {
      expect([laneCapacity(50, lane), laneCapacity(250, lane), laneCapacity(3, lane)]).toEqual([at50, at250, at3]);
      expect(secondsUntilRoom(44, 50, 2, lane)).toBeCloseTo(waitAt44);
      expect(secondsUntilRoom(at50, 50, 2, lane)).toBeCloseTo(0.5);
    },
  );

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
