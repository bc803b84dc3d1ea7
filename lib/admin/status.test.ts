import { describe, expect, it } from "vitest";
import { adminStatus } from "@/lib/admin/status";

const well = {
  portal: {
    domain: "x",
    status: "active",
    installStage: "finished",
    appVersion: "1",
    burst: 50,
    drain: 2,
    terminalReason: null,
    tokensProblem: null,
  },
  alerts: [],
  scopes: [
    { scope: "crm", required: true, granted: true },
    { scope: "im", required: false, granted: false },
  ],
  bindings: [
    { kind: "event", code: "ONCRMDEALUPDATE", mode: "offline", actual: true, lastError: null, checkedAt: null },
  ],
  pending: [],
} as unknown as Parameters<typeof adminStatus>[0];

describe("the admin page's first line", () => {
  it("says all is well when nothing needs the admin (a missing optional scope included)", () => {
    expect(adminStatus(well, 0)).toEqual({ tone: "ok", key: "statusAllWell", anchor: null });
  });

  it("names the most urgent thing first, with where to fix it", () => {
    const broken = { ...well, bindings: [{ ...well.bindings[0]!, actual: false }] };
    expect(adminStatus(broken, 3)).toMatchObject({
      tone: "bad",
      key: "statusBindings",
      anchor: "#bindings",
      detail: "1",
    });
    expect(adminStatus(well, 3)).toMatchObject({ tone: "warn", key: "statusDead", anchor: "#coverage", detail: "3" });
    const pending = {
      ...well,
      pending: [
        { id: "1", method: "crm.deal.update", status: "pending", purpose: null, createdAt: new Date(), error: null },
      ],
    };
    expect(adminStatus(pending as never, 3)).toMatchObject({ key: "statusConfirm", anchor: "#confirmations" });
    const noCrm = { ...well, scopes: [{ scope: "crm", required: true, granted: false }] };
    expect(adminStatus({ ...noCrm, bindings: broken.bindings }, 0)).toMatchObject({
      key: "statusScopes",
      detail: "crm",
    });
    const reauth = { ...well, portal: { ...well.portal, status: "needs_reauth" as const } };
    expect(adminStatus({ ...reauth, bindings: broken.bindings }, 5)).toMatchObject({
      tone: "bad",
      key: "statusReauth",
    });
  });
});
