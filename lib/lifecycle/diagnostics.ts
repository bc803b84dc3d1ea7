import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { appUrl } from "@/lib/env";
import { restartBackfill } from "@/lib/history/backfill";
import { audit } from "@/lib/lifecycle/audit";
import { reconcileBindings } from "@/lib/lifecycle/bindings";
import { probeCapabilities, saveCapabilities } from "@/lib/lifecycle/probe";
import { loadTokens } from "@/lib/portals/tokens";
import { errorMessage } from "@/lib/error-message";

// The recovery playbook of docs/lifecycle.md as code ("If events stop arriving"): each step checks, repairs what it
// can, reports.
export interface DiagnosticStep {
  step: string;
  ok: boolean;
  detail: string;
  repaired?: boolean;
}

async function step(name: string, run: () => Promise<Omit<DiagnosticStep, "step">>): Promise<DiagnosticStep> {
  try {
    return { step: name, ...(await run()) };
  } catch (e) {
    return { step: name, ok: false, detail: errorMessage(e) };
  }
}

/** Rebinds what vanished. The CRM events of the gap are lost (Bitrix24 keeps no queue for an absent binding), so a
 * repaired CRM binding starts a backfill pass, which records what changed meanwhile (source "backfill"). */
export async function rebindPortal(portalId: string) {
  const client = await bitrixFor(portalId);
  const profile = await getDb().capabilityProfile.findUnique({ where: { portalId } });
  const report = await reconcileBindings(portalId, client, (profile?.features ?? {}) as Record<string, string>);
  if (report.bound.some((b) => b.includes(":ONCRM"))) await restartBackfill(portalId, "rebind");
  return report;
}

export async function runDiagnostics(portalId: string): Promise<DiagnosticStep[]> {
  const portal = await getDb().portal.findUniqueOrThrow({ where: { id: portalId } });
  const client = await bitrixFor(portalId);
  const report: DiagnosticStep[] = [];
  report.push(
    await step("1. Installation finished", async () => {
      const info = (await client.call<{ INSTALLED?: boolean }>("app.info", {}, { lane: "interactive" })).result;
      return {
        ok: info.INSTALLED === true && portal.installStage === "finished",
        detail: `app.info INSTALLED=${String(info.INSTALLED)}, local stage ${portal.installStage}`,
      };
    }),
  );
  report.push(
    await step("2. Handler reachable", async () => {
      const url = appUrl("/api/ping");
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return {
        ok: res.ok,
        detail: `${url} answered ${res.status} (checked from this server; Bitrix24 must reach it from the internet too)`,
      };
    }),
  );
  const expectedMissing = await getDb().bindingState.count({ where: { portalId, expected: true, actual: false } });
  report.push(
    await step("3-4. Bindings verified with event.get, missing ones rebound", async () => {
      const r = await rebindPortal(portalId);
      return {
        ok: r.missingAfter.length === 0,
        repaired: r.bound.length > 0,
        detail: `${r.bound.length} rebound, ${r.missingAfter.length} still missing, ${expectedMissing} were marked missing before`,
      };
    }),
  );
  report.push(
    await step("5. Tokens and capability profile consistent", async () => {
      const tokens = await loadTokens(portalId);
      const caps = await probeCapabilities(client);
      await saveCapabilities(portalId, caps);
      const errors = caps.problems.filter((p) => p.level === "error");
      return {
        ok: Boolean(tokens) && errors.length === 0,
        repaired: true,
        detail: `tokens ${tokens ? `v${tokens.version}, expire ${tokens.expiresAt.toISOString()}` : "missing"}; profile refreshed, ${errors.length} blocking problems`,
      };
    }),
  );
  await audit(portal.memberId, portalId, "diagnostics.run", {
    ok: report.every((s) => s.ok),
    steps: report.map((s) => `${s.step}: ${s.ok ? "ok" : "FAIL"}`),
  });
  return report;
}
