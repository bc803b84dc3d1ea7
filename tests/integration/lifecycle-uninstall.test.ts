import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { callOrDefer, rerunPendingCall } from "@/lib/bitrix/confirm";
import { runDiagnostics } from "@/lib/lifecycle/diagnostics";
import { probePortal } from "@/lib/lifecycle/probe-portal";
import { resetDb } from "../support/test-db";
import { startAppWithFake, waitUntil } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
const portalRow = () => getDb().portal.findUnique({ where: { memberId: env.portal().memberId } });
beforeEach(async () => {
  await resetDb();
  env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
});
afterEach(() => env.stop());

const drainInbox = async () => {
  while (await processInboxBatch("test", 50));
};

describe("method confirmation", () => {
  it("stores the pending call, re-runs it only when confirmed, records a denial", async () => {
    const { id: portalId } = (await portalRow())!;
    await env.control("methods", { name: "crm.deal.delete", confirm: "required" });
    const first = await callOrDefer(portalId, "crm.deal.delete", { id: 3 }, "test");
    expect(first.status).toBe("pending");
    await env.control("confirm", { method: "crm.deal.delete", confirmed: true }); // ONAPPMETHODCONFIRM → our events route
    await waitUntil(
      async () => (await getDb().eventInbox.count({ where: { portalId, event: "ONAPPMETHODCONFIRM" } })) > 0,
    );
    await drainInbox();
    expect(
      await getDb().pendingCall.findUniqueOrThrow({ where: { id: (first as { pendingId: string }).pendingId } }),
    ).toMatchObject({ status: "done" });
    expect(env.state().crm.deal.has(3)).toBe(false);

    await env.control("tokens/expire"); // a new token needs a new confirmation
    const second = await callOrDefer(portalId, "crm.deal.delete", { id: 4 }, "test");
    expect(second.status).toBe("pending");
    await env.control("confirm", { method: "crm.deal.delete", confirmed: false });
    await waitUntil(
      async () => (await getDb().eventInbox.count({ where: { portalId, event: "ONAPPMETHODCONFIRM" } })) > 1,
    );
    await drainInbox();
    const denied = await getDb().pendingCall.findUniqueOrThrow({
      where: { id: (second as { pendingId: string }).pendingId },
    });
    expect(denied.status).toBe("denied");
    expect(env.state().crm.deal.has(4)).toBe(true);
    expect((await rerunPendingCall(portalId, denied.id)).status).toBe("failed"); // METHOD_CONFIRM_DENIED is final for this token
  });
});

describe("uninstall and reinstall", () => {
  it("CLEAN=1 purges the portal's data except the uninstall audit record; later events are refused", async () => {
    const { id: portalId, memberId } = (await portalRow())!;
    await env.control("uninstall", { clean: true });
    expect(await portalRow()).toBeNull();
    expect(await getDb().tokenSet.count({ where: { portalId } })).toBe(0);
    expect(
      (await getDb().auditLog.findMany({ where: { memberId, action: "uninstall" } })).map((a) => a.detail),
    ).toEqual([{ clean: true }]);
    const late = await fetch(`${env.app.url}/api/bitrix/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=1&auth%5Bmember_id%5D=${memberId}&auth%5Bapplication_token%5D=${env.state().app.applicationToken}`,
    });
    expect(late.status).toBe(401);
  });

  it("CLEAN=0 keeps the data, is idempotent, and a reinstall repairs the residue", async () => {
    const { id: portalId } = (await portalRow())!;
    const uninstallBody = `event=ONAPPUNINSTALL&data%5BLANGUAGE_ID%5D=en&data%5BCLEAN%5D=0&ts=1&auth%5Bmember_id%5D=${env.portal().memberId}&auth%5Bapplication_token%5D=${env.state().app.applicationToken}`;
    await env.control("uninstall", { clean: false });
    const again = await fetch(`${env.app.url}/api/bitrix/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: uninstallBody,
    });
    expect(await again.json()).toEqual({ status: "duplicate" });
    expect(await portalRow()).toMatchObject({ status: "uninstalled" });
    expect(await getDb().backfillRun.count({ where: { portalId } })).toBe(4); // data kept
    expect(await getDb().tokenSet.count({ where: { portalId } })).toBe(0);

    await env.control("install", { mode: "ui", finish: true });
    expect(await portalRow()).toMatchObject({ id: portalId, status: "active", installStage: "finished" });
    expect(await getDb().tokenSet.count({ where: { portalId } })).toBe(1);
    expect((await getDb().bindingState.findMany({ where: { portalId } })).every((b) => b.actual)).toBe(true);
    expect((await getDb().auditLog.findMany({ where: { portalId } })).map((a) => a.action)).toContain(
      "reinstall.finished",
    );
  });

  it("an update that dropped the bindings is reconciled from ONAPPUPDATE", async () => {
    await env.control("update", { version: 2 });
    await waitUntil(async () => (await getDb().auditLog.count({ where: { action: "update.finished" } })) > 0);
    const bound = env.state().bindings.map((b) => b.event);
    expect(bound).toEqual(expect.arrayContaining(["ONCRMDEALUPDATE", "ONAPPUNINSTALL", "ONAPPUPDATE"]));
  });

  it("notices a lost app whose uninstall event never arrived", async () => {
    const { id: portalId } = (await portalRow())!;
    await env.control("revoke");
    expect(await probePortal(portalId)).toBe("terminal");
    expect(await portalRow()).toMatchObject({ status: "needs_reauth" }); // invalid_grant: an admin's visit or a reinstall
    expect(await getDb().auditLog.count({ where: { portalId, action: "probe.access_lost" } })).toBe(1);
  });
});

describe("recovery playbook", () => {
  it("finds vanished bindings with event.get and rebinds them", async () => {
    const { id: portalId } = (await portalRow())!;
    await env.control("bindings/delete", { event: "ONCRMDEALUPDATE" });
    const report = await runDiagnostics(portalId);
    expect(report.map((s) => s.step)).toHaveLength(4);
    const rebind = report.find((s) => s.step.startsWith("3-4"))!;
    expect(rebind).toMatchObject({ ok: true, repaired: true });
    expect(env.state().bindings.some((b) => b.event === "ONCRMDEALUPDATE")).toBe(true);
    const { GET } = await import("@/app/api/metrics/route");
    const text = await (await GET(new Request("http://app/api/metrics"))).text();
    expect(text).toMatch(new RegExp(`b24_bindings\\{portal="${portalId}",state="bound"\\} \\d+`));
  });

  it("serves /api/metrics only with the METRICS_TOKEN when one is configured", async () => {
    const { GET } = await import("@/app/api/metrics/route");
    const { resetEnvForTests } = await import("@/lib/env");
    process.env.METRICS_TOKEN = "metrics-token-0123456789";
    resetEnvForTests();
    try {
      expect((await GET(new Request("http://app/api/metrics"))).status).toBe(401);
      expect(
        (
          await GET(
            new Request("http://app/api/metrics", { headers: { authorization: "Bearer wrong-token-0123456789" } }),
          )
        ).status,
      ).toBe(401);
      expect(
        (
          await GET(
            new Request("http://app/api/metrics", { headers: { authorization: "Bearer metrics-token-0123456789" } }),
          )
        ).status,
      ).toBe(200);
    } finally {
      delete process.env.METRICS_TOKEN;
      resetEnvForTests();
    }
  });
});
