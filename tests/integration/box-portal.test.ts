import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAdminOverview } from "@/lib/admin/overview";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { processInboxBatch } from "@/lib/events/inbox";
import { runBackfill } from "@/lib/history/backfill";
import { runStageHistory, STAGE_HISTORY_JOB, type StageHistoryPayload } from "@/lib/history/stage-history";
import { presentChanges } from "@/lib/history/present";
import { queryHistory } from "@/lib/history/query";
import { probePortal } from "@/lib/lifecycle/probe-portal";
import { startFakeBitrix, type RunningFake } from "../fake-portal/index";
import { startAppServer } from "../support/app-server";
import { waitUntil } from "../support/lifecycle-env";

// A self-hosted (box) Bitrix24, as the Market requires apps to support (docs/fake-portal.md "Self-hosted (box)
// portals"): an intranet address, app.info without a plan family, feature.get answering `en_selfhosted`, no Disk
// module, a crm module older than crm.category.list, no REST 3.0, its own `mycompany.*` methods, and no token
// grants proxied at the portal.
let app: Awaited<ReturnType<typeof startAppServer>>;
let fake: RunningFake;
let portalId = "";
// crm.item.productrow.list and crm.stagehistory.list: universal CRM methods an older box's crm module lacks too
const BOX_LACKS = ["crm.category.list", "crm.item.productrow.list", "crm.stagehistory.list"];
const portal = () => fake.fake.portals[0]!;
const control = async (route: string, body: unknown = {}) => {
  const res = await fetch(`${fake.portals[0]!.baseUrl}/_fake/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return res.json() as Promise<Record<string, unknown>>;
};

beforeAll(async () => {
  app = await startAppServer();
  process.env.APP_URL = app.url;
  const { BITRIX_CLIENT_ID: clientId, BITRIX_CLIENT_SECRET: clientSecret } = process.env;
  const seed = { deals: 20, contacts: 5, companies: 5, leads: 5 };
  fake = await startFakeBitrix({
    box: { absentMethods: BOX_LACKS },
    seed,
    app: { clientId: clientId!, clientSecret: clientSecret!, appUrl: app.url },
  });
  process.env.BITRIX_OAUTH_URL = fake.oauthUrl;
  process.env.BITRIX_OAUTH_ALLOWED = fake.oauthUrl;
  resetEnvForTests();
  const res = await control("install", { mode: "ui", finish: true }); // the installer form, as the browser posts it
  expect(res.status).toBe(303);
  portalId = (await getDb().portal.findUniqueOrThrow({ where: { memberId: fake.portals[0]!.memberId } })).id;
});
afterAll(async () => {
  await fake.stop();
  await app.stop();
});

describe("installed on a self-hosted Bitrix24", () => {
  it("installs at the company's own address over http", async () => {
    expect(await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).toMatchObject({
      status: "active",
      installStage: "finished",
      domain: fake.portals[0]!.domain,
      clientEndpoint: fake.portals[0]!.clientEndpoint,
    });
    expect(fake.portals[0]!.domain).toMatch(/^localhost:\d+$/);
  });

  it("reads the box's feature answers as off, and shows them and the absent module as warnings", async () => {
    const profile = await getDb().capabilityProfile.findUniqueOrThrow({ where: { portalId } });
    expect(profile.features).toEqual({ rest_offline_extended: "en_selfhosted", rest_auth_connector: "en_selfhosted" });
    const problems = profile.problems as { level: string; item: string; message: string }[];
    expect(problems.filter((p) => p.level === "error")).toEqual([]);
    expect(problems.map((p) => p.item)).toEqual(
      expect.arrayContaining([
        "feature:rest_offline_extended",
        "feature:rest_auth_connector",
        "scope:disk",
        "method:disk.storage.getforapp",
        "method:crm.category.list",
      ]),
    );
    const offline = problems.find((p) => p.item === "feature:rest_offline_extended")!;
    expect(offline.message).toMatch(/self-hosted Bitrix24 \(feature\.get answered "en_selfhosted"\)/);
    const caps = (await loadAdminOverview(portalId)).capabilities;
    expect(caps.find((c) => c.item === "rest_offline_extended")).toMatchObject({
      ok: false,
      disables: expect.stringMatching(/self-hosted Bitrix24 .* CRM changes arrive as online events/),
    });
    expect(caps.find((c) => c.item === "crm.category.list")).toMatchObject({ ok: false, required: false });
  });

  it("binds CRM events online, not to an offline queue it must not rely on", async () => {
    const bound = portal().bindings.map((b) => `${b.offline ? "offline" : "online"}:${b.event}`);
    expect(bound).toContain("online:ONCRMDEALUPDATE");
    expect(bound.filter((b) => b.startsWith("offline:"))).toEqual([]);
    expect(bound).not.toContain("online:ONOFFLINEEVENT");
    const states = await getDb().bindingState.findMany({ where: { portalId } });
    expect(states.every((s) => s.actual && s.mode !== "offline")).toBe(true);
  });

  it("captures a deal edited in the portal and shows it in the tab's words", async () => {
    expect((await runBackfill(portalId)).complete).toBe(true); // the baseline the edit is diffed against
    // the stage-history jobs the pass queued find no crm.stagehistory.list on this box and record nothing
    for (const job of await getDb().job.findMany({ where: { portalId, kind: STAGE_HISTORY_JOB } })) {
      expect(await runStageHistory(portalId, job.payload as unknown as StageHistoryPayload)).toEqual({
        recorded: 0,
        complete: true,
      });
    }
    await control("crm/deal/7", { fields: { TITLE: "Box deal", STAGE_ID: "PREPARATION" }, userId: 2 });
    await waitUntil(async () => (await getDb().eventInbox.count({ where: { portalId, status: "pending" } })) > 0);
    while (await processInboxBatch("test", 50));
    const page = await queryHistory(portalId, { entityType: "deal", entityId: 7 });
    expect(page.items.map((c) => c.field).sort()).toEqual(["STAGE_ID", "TITLE"]);
    const rows = await presentChanges(portalId, "deal", page.items, "en");
    expect(rows.find((r) => r.field === "Name")).toMatchObject({ newValue: "Box deal", who: "Boris Manager" });
  });

  it("checks the plan with app.info although a box reports no LICENSE_FAMILY", async () => {
    expect(await probePortal(portalId)).toBe("ok");
    expect(await getDb().portal.findUniqueOrThrow({ where: { id: portalId } })).toMatchObject({
      licenseFamily: null,
      status: "active",
    });
  });

  it("refreshes tokens at the OAuth server, which is all a box offers", async () => {
    await control("tokens/expire");
    const before = portal().counters.refreshes;
    expect((await (await bitrixFor(portalId)).call<boolean>("user.admin")).result).toBe(true);
    expect(portal().counters.refreshes - before).toBe(1);
  });

  it("never called a method the box lacks, REST 3.0, or the portal's token endpoint", () => {
    const log = portal().log;
    expect(log.filter((e) => e.status === 404).map((e) => e.path)).toEqual([]);
    const lacking = (m: string) => BOX_LACKS.includes(m) || m.startsWith("disk.") || m.startsWith("event.offline.");
    expect(log.map((e) => e.rest ?? "").filter(lacking)).toEqual([]);
    expect(Object.keys(portal().counters.rest).filter(lacking)).toEqual([]); // commands inside batches included
    expect(log.filter((e) => e.path.startsWith("/rest/api/") || e.path.startsWith("/oauth/"))).toEqual([]);
  });
});
