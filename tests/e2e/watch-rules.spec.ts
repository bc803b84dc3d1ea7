import { expect, test } from "@playwright/test";
import { portal, shot } from "./support";

// Watch rules (issue #17 item 4) as an admin and an employee meet them in the portal: the admin adds a rule on the
// app's settings page, another employee changes a deal's amount on its card, and the deal's responsible person
// finds the notification in the portal's notifications (im.notify.personal.add from the app's worker).
const DEAL = 12;
const AMOUNT = /4[\s,.\u00a0\u202f]?321/; // as the user's locale writes the money: 4,321.00 / 4 321,00

test("a watch rule tells a deal's responsible person, in the portal's notifications, when someone changes its amount", async ({
  page,
}) => {
  await fetch(`${portal()}/_fake/crm/deal/${DEAL}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fields: { ASSIGNED_BY_ID: "3" }, userId: 1 }),
  }); // Clara Sales is responsible
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  // the settings page has set itself up through B24Frame (its height fitted) before we click in it
  await page.waitForFunction(() =>
    ((window as unknown as { __frameLog?: string[] }).__frameLog ?? []).includes("resizeWindow"),
  );
  const rules = page.frameLocator("#app-frame").getByRole("region", { name: "Watch rules" });
  await rules.getByLabel("Rule name").fill("Amounts of Clara's deals");
  await rules.getByLabel(/^Field codes/).fill("OPPORTUNITY");
  await rules.getByLabel("tell the record's responsible person").check();
  await rules.getByRole("button", { name: "Add rule" }).click();
  await expect(rules).toContainText("Amounts of Clara's deals");

  await page.goto(`${portal()}/crm/deal/details/${DEAL}/?user=2`); // Boris Manager edits the deal
  await page.locator("#f-OPPORTUNITY").fill("4321.00");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#f-OPPORTUNITY")).toHaveValue("4321.00");

  // The worker captures the edit (offline queue → inbox → diff), matches the rule and delivers the notification.
  const notification = page.locator("[data-notification]").first();
  await expect(async () => {
    await page.goto(`${portal()}/notifications/?user=3`);
    await expect(notification).toContainText(AMOUNT, { timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  await expect(notification).toContainText("Boris Manager");
  await page.screenshot({ path: test.info().outputPath("watch-rule-notification.png"), fullPage: true });
  // Boris, who made the edit, is not told of it.
  await page.goto(`${portal()}/notifications/?user=2`);
  await expect(page.locator("[data-notification]").filter({ hasText: AMOUNT })).toHaveCount(0);
});

// Issue #17: an employee watches for themselves from the CRM card's Change history tab ("Notify me…"), another employee
// edits a record, and the first one finds the notification in the portal — then, in Russian in a narrow slider, reaches
// the same rule with the keyboard and deletes it.
const WATCHED = 14;
const SUM = /2[\s,.\u00a0\u202f]?468/;

test("an employee adds a personal rule from the CRM tab and is notified when someone else changes that field", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  // Clara Sales is responsible for the deal, and its history already knows its Amount (the tab offers known fields).
  await fetch(`${portal()}/_fake/crm/deal/${WATCHED}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fields: { ASSIGNED_BY_ID: "3", OPPORTUNITY: "1357.00" }, userId: 1 }),
  });
  const frame = page.frameLocator("#app-frame");
  await expect(async () => {
    await page.goto(`${portal()}/crm/deal/details/${WATCHED}/?tab=0&user=3`);
    await expect(frame.locator("td.field", { hasText: "Amount" }).first()).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  const island = frame.locator("[data-notify-me]");
  await island.locator("summary", { hasText: "Notify me…" }).click();
  await expect(island.getByText("You have no rules for this type yet.")).toBeVisible();
  await island.getByRole("checkbox", { name: "Amount" }).check();
  await expect(island.getByRole("checkbox", { name: "only records I am responsible for" })).toBeChecked();
  await island.getByRole("button", { name: "Notify me", exact: true }).click();
  await expect(island.getByRole("status")).toHaveText("Rule added");
  await expect(island.getByRole("list", { name: "Your rules" })).toContainText("Deal: Amount");
  await shot(page, "watch-tab-notify-me-en-1280");

  await page.goto(`${portal()}/crm/deal/details/${WATCHED}/?user=2`); // Boris Manager edits the deal
  await page.locator("#f-OPPORTUNITY").fill("2468.00");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#f-OPPORTUNITY")).toHaveValue("2468.00");

  // Clara's own rule names itself in the notification (a portal rule on amounts may name itself beside it).
  const mine = page.locator("[data-notification]").filter({ hasText: "Deal: Amount" }).first();
  await expect(async () => {
    await page.goto(`${portal()}/notifications/?user=3`);
    await expect(mine).toContainText(SUM, { timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  await expect(mine).toContainText("Boris Manager");
  await page.screenshot({ path: test.info().outputPath("watch-tab-notification-en-1280.png"), fullPage: true });

  // In Russian, 400 px wide: the disclosure opened from the keyboard lists the rule, which Clara deletes.
  await page.setViewportSize({ width: 400, height: 900 });
  await page.goto(`${portal()}/crm/deal/details/${WATCHED}/?tab=0&user=3&lang=ru`);
  const ru = frame.locator("[data-notify-me]");
  await ru.locator("summary", { hasText: "Уведомлять меня…" }).focus();
  await page.keyboard.press("Enter");
  await expect(ru.getByRole("list", { name: "Ваши правила" })).toContainText("Deal: Amount");
  await expect(ru.getByRole("checkbox", { name: "только записи, за которые отвечаю я" })).toBeVisible();
  expect(await frame.locator("body").evaluate((b) => b.scrollWidth - b.clientWidth)).toBeLessThanOrEqual(0);
  await shot(page, "watch-tab-notify-me-ru-400");
  await ru.getByRole("button", { name: "Удалить: Deal: Amount" }).click();
  await expect(ru.getByText("У вас пока нет правил для этого типа.")).toBeVisible();
});
