import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { rebindPortal } from "@/lib/lifecycle/diagnostics";
import { eventHandlerUrl, placementHandlerUrl } from "@/lib/lifecycle/registry";
import { startAppWithFake } from "../support/lifecycle-env";

// Binding health compares handler addresses (issue #18 item 6): after APP_URL changes, a handler at the old address
// reaches nobody — it is not "bound", the new address is bound, and the old ones are removed; offline bindings we no
// longer use are cleaned up too.
let env: Awaited<ReturnType<typeof startAppWithFake>>;
let portalId: string;
beforeAll(async () => {
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal().memberId } })).id;
});
afterAll(() => env.stop());

describe("binding health after the app's address changed", () => {
  it("rebinds events and placements at the new address and removes the stale ones", async () => {
    const oldEvents = eventHandlerUrl();
    const oldPlacement = placementHandlerUrl();
    const oldUrl = process.env.APP_URL!;
    // A stale offline binding we no longer use (an event the registry dropped).
    env.state().bindings.push({
      id: 9999,
      event: "ONCRMACTIVITYADD",
      handler: "",
      authType: 0,
      offline: true,
      connector: "change_history",
      minTimeout: 1,
    });
    process.env.APP_URL = oldUrl.replace("127.0.0.1", "localhost");
    resetEnvForTests();
    try {
      expect(eventHandlerUrl()).not.toBe(oldEvents);
      const report = await rebindPortal(portalId);
      expect(report.missingAfter).toEqual([]);
      expect(report.bound.filter((b) => b.startsWith("online:")).length).toBeGreaterThan(0);
      expect(report.bound.filter((b) => b.startsWith("placement:")).length).toBeGreaterThan(0);
      const online = env.state().bindings.filter((b) => !b.offline);
      expect(online.length).toBeGreaterThan(0);
      expect(online.filter((b) => b.handler !== eventHandlerUrl())).toEqual([]);
      expect(env.state().placements.filter((p) => p.handler === oldPlacement)).toEqual([]);
      expect(env.state().bindings.some((b) => b.event === "ONCRMACTIVITYADD")).toBe(false);
      const states = await getDb().bindingState.findMany({ where: { portalId } });
      expect(states.every((s) => s.actual)).toBe(true);
    } finally {
      process.env.APP_URL = oldUrl;
      resetEnvForTests();
    }
  });
});
