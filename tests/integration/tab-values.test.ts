// Values as Bitrix24 shows them (issue #16 items 2 and 4), read in the tab's HTML as a user gets it, in English and
// in Russian: users by name, money in its currency, Yes/No (Да/Нет), dates and times in the user's locale and zone,
// linked records and the record itself by their titles, the type's name in the user's language, files by the name
// their download gives (crm.item gives none) with their link, long texts as a word diff. And the CSV of a smart-process item (issue #14), formatted the same way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPage } from "../support/render-page";
import { verifyFrameAuth } from "@/lib/auth/frame-auth";
import { issueSessionToken } from "@/lib/auth/session";
import { forgetUserRights } from "@/lib/auth/user-rights";
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import { runBackfill } from "@/lib/history/backfill";
import { attachHistoryCsv, buildHistoryCsv } from "@/lib/history/export";
import { startAppWithFake } from "../support/lifecycle-env";

let env: Awaited<ReturnType<typeof startAppWithFake>>;
const ids: string[] = [];
const DEAL = 3;
const LONG_BEFORE = `${"Call the client about the renewal terms. ".repeat(6)}Budget is fixed.`;
const LONG_AFTER = `${"Call the client about the renewal terms. ".repeat(6)}Budget is <b>open</b>.`;

// Intl separates thousands and currency with no-break spaces: read as spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");
const text = (h: string) =>
  plain(
    h
      .replace(/<[^>]+>/g, "")
      .replace(/&amp;/g, "&")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'"),
  ).trim();

/** The tab's rows as a user reads them: field → [old, new]. */
function rowsOf(body: string): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  const cell = (cls: string) => `class="${cls}">([\\s\\S]*?)<\\/td>`;
  const row = new RegExp(`${cell("field")}[\\s\\S]*?${cell("old")}\\s*<td[^>]*${cell("new")}`, "g");
  for (const m of body.matchAll(row)) if (!out.has(text(m[1]!))) out.set(text(m[1]!), [m[2]!, m[3]!]);
  return out;
}

async function settle(i: number) {
  await drainOffline(ids[i]!);
  while (await processInboxBatch("test", 50));
}

async function session(i: number, lang: "en" | "ru", record: { entity: string; id: number }) {
  const f = (await env.control("frame-auth", { userId: 1 }, i)) as Record<string, string>;
  const s = await verifyFrameAuth({ AUTH_ID: f.AUTH_ID!, member_id: f.member_id!, LANG: lang }, record);
  return { session: s, token: await issueSessionToken(s) };
}

async function tab(i: number, lang: "en" | "ru", entity: string, id: number, tz: string) {
  const { token } = await session(i, lang, { entity, id });
  const res = await renderPage(`/placements/tab?entity=${entity}&id=${id}&tz=${encodeURIComponent(tz)}&st=${token}`);
  expect(res.status).toBe(200);
  return res.text();
}

const SHOW_FILE = "/bitrix/components/bitrix/crm.deal.show/show_file.php?fileId=7";
const BEFORE = {
  ASSIGNED_BY_ID: "4",
  UF_CRM_BUDGET: "1002|USD",
  UF_CRM_VIP: "0",
  UF_CRM_MEETING: "2026-11-30T10:02:00+03:00",
  UF_CRM_DUE: "2026-12-31",
  COMPANY_ID: "5",
  COMMENTS: LONG_BEFORE,
  UF_CRM_CONTRACT: null,
  OPPORTUNITY: "1500.00",
  CURRENCY_ID: "EUR",
};
const EDIT = {
  ASSIGNED_BY_ID: "1",
  UF_CRM_BUDGET: "2500.5|USD",
  UF_CRM_VIP: "1",
  UF_CRM_MEETING: "2026-12-01T15:30:00+03:00",
  UF_CRM_DUE: "2027-01-15",
  COMPANY_ID: "4",
  COMMENTS: LONG_AFTER,
  OPPORTUNITY: "30000.00",
  UF_CRM_CONTRACT: { id: 7, showUrl: SHOW_FILE, downloadUrl: SHOW_FILE },
};
/** File 7 as the portal keeps it: the name it was uploaded under, which only its download tells (file-names.ts). */
const CONTRACT = { name: "contract <v2>.pdf", content: Buffer.from("%PDF-1.4") };

beforeAll(async () => {
  env = await startAppWithFake({ portals: 2 });
  env.state(1).lang = "ru";
  for (const i of [0, 1]) {
    Object.assign(env.state(i).crm.deal.get(DEAL)!, BEFORE);
    env.state(i).disk.crmFiles.set(7, CONTRACT);
    env.state(i).disk.nextId = 100; // files uploaded later never take id 7
    await env.control("plan", { burst: 500, drain: 100 }, i);
    await env.control("install", { mode: "ui", finish: true }, i);
    const portal = await getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
    await getDb().portal.update({ where: { id: portal.id }, data: { rateBurst: 500, rateDrainPerSec: 100 } });
    ids[i] = portal.id;
    expect((await runBackfill(portal.id)).complete).toBe(true);
    await env.control(`crm/deal/${DEAL}`, { fields: EDIT, userId: 2 }, i);
    await settle(i);
  }
  forgetUserRights();
});
afterAll(() => env.stop());

describe("the tab in English", () => {
  it("names users, formats money, Yes/No, dates and times in the user's zone, linked companies by title", async () => {
    const rows = rowsOf(await tab(0, "en", "deal", DEAL, "Asia/Tokyo"));
    const read = (field: string) => rows.get(field)?.map(text);
    const company = (id: number) => String(env.state(0).crm.company.get(id)!.TITLE);
    expect(read("Responsible")).toEqual(["Dmitry Support", "Anna Admin"]);
    expect(read("Budget")).toEqual(["US$1,002.00", "US$2,500.50"]);
    expect(read("Amount")).toEqual(["€1,500.00", "€30,000.00"]); // the deal's CURRENCY_ID
    expect(read("VIP")).toEqual(["No", "Yes"]);
    expect(read("Meeting at")).toEqual(["30/11/2026, 16:02:00", "01/12/2026, 21:30:00"]); // +03:00 read in Tokyo
    expect(read("Due date")).toEqual(["31/12/2026", "15/01/2027"]); // a day is never shifted by a zone
    expect(read("Company")).toEqual([company(5), company(4)]);
  });

  it("shows a file by its name with the portal's link, never its token-bearing urlMachine; a long text as word marks", async () => {
    const rows = rowsOf(await tab(0, "en", "deal", DEAL, "Asia/Tokyo"));
    const [, file] = rows.get("Contract")!;
    // crm.item.get/list answer a file as {id, url, urlMachine}, with no name (b24restdocs
    // api-reference/files/how-to-update-files.md); the name comes from urlMachine's download, read once after capture
    const url =
      `${env.portal(0).baseUrl}/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&amp;SITE_ID=s1` +
      `&amp;entityTypeId=2&amp;id=${DEAL}&amp;fieldName=UF_CRM_CONTRACT&amp;fileId=7`;
    expect(file).toBe(`<a href="${url}" target="_blank" rel="noopener noreferrer">contract &lt;v2&gt;.pdf</a>`);
    // one download named it (a ranged GET of one byte); rendering the tab again downloads nothing
    expect(env.state(0).counters.rest["crm.controller.item.getfile"]).toBe(1);
    await tab(0, "en", "deal", DEAL, "UTC");
    expect(env.state(0).counters.rest["crm.controller.item.getfile"]).toBe(1);
    // urlMachine carries an auth token ("do not record it in logs"): no stored change keeps it
    const stored = await getDb().fieldChange.findMany({ where: { portalId: ids[0]!, field: "UF_CRM_CONTRACT" } });
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored.map((c) => [c.oldValue, c.newValue]))).not.toMatch(/urlMachine|auth=/);
    const snapshot = await getDb().crmSnapshot.findFirstOrThrow({
      where: { portalId: ids[0]!, entityType: "deal", entityId: DEAL },
    });
    expect((snapshot.fields as Record<string, unknown>).UF_CRM_CONTRACT).toEqual({ id: 7, url: expect.any(String) });
    const [old, now] = rows.get("Comment")!;
    expect(old).toContain("<del>fixed.</del>");
    expect(now).toContain("<ins>&lt;b&gt;open&lt;/b&gt;.</ins>");
    expect(now).not.toContain("<b>");
  });

  it("names the record by its title and its type, in the header and the page title", async () => {
    const body = await tab(0, "en", "deal", DEAL, "UTC");
    const title = String(env.state(0).crm.deal.get(DEAL)!.TITLE);
    expect(text(/<p class="sub">([\s\S]*?)<\/p>/.exec(body)![1]!)).toMatch(
      new RegExp(`^Deal #${DEAL} · ${title.replace(/[#]/g, "\\#")} · \\d+ changes$`),
    );
    expect(/<title>(.*)<\/title>/.exec(body)![1]).toBe(
      `Change history — ${title.replace(/&/g, "&amp;")} (Deal #${DEAL})`,
    );
  });
});

describe("the tab in Russian", () => {
  it("says Да/Нет, formats money and dates the Russian way, in the user's zone, with the portal's labels", async () => {
    const body = await tab(1, "ru", "deal", DEAL, "Europe/Moscow");
    const rows = rowsOf(body);
    const read = (field: string) => rows.get(field)?.map(text);
    expect(read("Ответственный")).toEqual(["Dmitry Support", "Anna Admin"]);
    expect(read("Бюджет")).toEqual(["1 002,00 $", "2 500,50 $"]);
    expect(read("Сумма")).toEqual(["1 500,00 €", "30 000,00 €"]);
    expect(read("VIP")).toEqual(["Нет", "Да"]);
    expect(read("Встреча")).toEqual(["30.11.2026, 10:02:00", "01.12.2026, 15:30:00"]);
    expect(read("Срок")).toEqual(["31.12.2026", "15.01.2027"]);
    expect(text(/<p class="sub">([\s\S]*?)<\/p>/.exec(body)![1]!)).toMatch(new RegExp(`^Сделка #${DEAL} · `));
    expect(body).not.toMatch(/>(deal|true|false|Amount)</);
  });

  it("names a quote's and a smart process's type in the user's language, or by the process's own title", async () => {
    const quote = await tab(1, "ru", "quote", 2, "Europe/Moscow");
    expect(text(/<p class="sub">([\s\S]*?)<\/p>/.exec(quote)![1]!)).toMatch(/^Предложение #2 · /);
    const project = await tab(1, "ru", "dynamic_128", 1, "Europe/Moscow");
    const item = (await env.control("items/128/1", {}, 1, "GET")) as { title: string };
    expect(text(/<p class="sub">([\s\S]*?)<\/p>/.exec(project)![1]!)).toMatch(
      new RegExp(`^Projects #1 · ${item.title} · `),
    );
    // the portal's own labels in its language, for a smart process's fields too
    await env.control("items/128/1", { fields: { opportunity: 12345 }, userId: 2 }, 1);
    await settle(1);
    const rows = rowsOf(await tab(1, "ru", "dynamic_128", 1, "Europe/Moscow"));
    expect(rows.get("Сумма")?.map(text)).toEqual(["10 000,00 €", "12 345,00 €"]);
  });
});

describe("the tab's status line in Russian", () => {
  it("says in Russian that Bitrix24 refused the attachment", async () => {
    await env.control("rights", { userId: 1, entity: "deal", id: DEAL, write: false }, 1);
    try {
      const { session: admin } = await session(1, "ru", { entity: "deal", id: DEAL });
      await expect(attachHistoryCsv(admin, "deal", DEAL, "UF_CRM_CONTRACT")).rejects.toMatchObject({
        status: 403,
        message: "Битрикс24 не разрешает вам изменять эту запись, поэтому историю нельзя к ней прикрепить",
      });
    } finally {
      await env.control("rights", { userId: 1, entity: "deal", id: DEAL, write: true }, 1);
    }
  });
});

describe("CSV of a smart-process item", () => {
  it("is put on the item's timeline, its values formatted as the tab shows them, the stored ones beside", async () => {
    await env.control("items/128/2", { fields: { opportunity: 25000, UF_CRM_1_PHASE2: "N" }, userId: 2 }, 0);
    await settle(0);
    const { session: admin } = await session(0, "en", { entity: "dynamic_128", id: 2 });
    const r = await attachHistoryCsv(admin, "dynamic_128", 2, undefined, "Asia/Tokyo");
    expect(r).toMatchObject({ attachedTo: "timeline", name: "history-dynamic_128-2.csv" });
    expect(env.state(0).timeline.at(-1)).toMatchObject({
      ENTITY_TYPE: "dynamic_128",
      ENTITY_ID: 2,
      FILES: [{ name: "history-dynamic_128-2.csv" }],
    });
    const csv = plain(new TextDecoder().decode((await buildHistoryCsv(ids[0]!, "dynamic_128", 2, "en")).content));
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(`"When","Field","Who","Old value","New value","changedAt","fieldCode","oldRaw","newRaw"`);
    const line = (code: string) => lines.find((l) => l.includes(`"${code}"`));
    const iso = `"[-\\d]+T[\\d:.]+Z"`;
    expect(line("ufCrm_1_PHASE2")).toMatch(
      new RegExp(`"Phase 2","Boris Manager","Yes","No",${iso},"ufCrm_1_PHASE2","true","false"$`),
    );
    expect(line("opportunity")).toMatch(
      new RegExp(`"Amount","Boris Manager","€20,000.00","€25,000.00",${iso},"opportunity","20000","25000"$`),
    );
  });
});
