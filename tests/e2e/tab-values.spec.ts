import { expect, test } from "@playwright/test";
import { portal, shot } from "./support";

// Values as Bitrix24 shows them (issue #16 items 2 and 4), in the browser inside the portal's card: a responsible
// person by name, money in its currency, a flag as Yes/Да, a date as a day, the record by its title — in English on
// a wide screen and in Russian in a narrow slider.
const DEAL = 12;

test("the tab shows names, money, Yes/No and the record's title, in English at 1280 px and Russian at 400 px", async ({
  page,
}) => {
  const current = (await (await fetch(`${portal()}/_fake/crm?entity=deal&id=${DEAL}`)).json()) as Record<
    string,
    unknown
  >;
  const fields = {
    ASSIGNED_BY_ID: current.ASSIGNED_BY_ID === "1" ? "3" : "1",
    UF_CRM_BUDGET: "2500.5|USD",
    UF_CRM_VIP: current.UF_CRM_VIP === "1" ? "0" : "1",
    UF_CRM_DUE: "2027-01-15",
  };
  await fetch(`${portal()}/_fake/crm/deal/${DEAL}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fields, userId: 2 }),
  });
  const frame = page.frameLocator("#app-frame");
  // The worker picks the edit up through the offline queue; the tab shows it once it is recorded.
  await expect(async () => {
    await page.goto(`${portal()}/crm/deal/details/${DEAL}/?tab=0`);
    await expect(frame.getByRole("cell", { name: "US$2,500.50" })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  // by text, not by cell name: below 640 px a cell's accessible name starts with its column's label ("Было: …")
  const row = (label: string) => frame.getByRole("row").filter({ hasText: label });
  const person = fields.ASSIGNED_BY_ID === "1" ? "Anna Admin" : "Clara Sales";
  await expect(row("Responsible")).toContainText(person);
  await expect(row("VIP")).toContainText(fields.UF_CRM_VIP === "1" ? "Yes" : "No");
  await expect(row("Due date")).toContainText("15/01/2027");
  await expect(frame.locator(".sub")).toContainText(`Deal #${DEAL} · ${String(current.TITLE)}`);
  await shot(page, "tab-values-en-1280");

  await page.setViewportSize({ width: 400, height: 900 });
  await page.goto(`${portal()}/crm/deal/details/${DEAL}/?tab=0&lang=ru`);
  await expect(row("Бюджет").or(row("Budget"))).toContainText(/2\s500,50\s\$/);
  await expect(row("VIP")).toContainText(fields.UF_CRM_VIP === "1" ? "Да" : "Нет");
  await expect(row("Due date")).toContainText("15.01.2027");
  await expect(frame.locator(".sub")).toContainText(`Сделка #${DEAL} · ${String(current.TITLE)}`);
  await shot(page, "tab-values-ru-400");
});
