import { expect, test } from "@playwright/test";
import { portal } from "./support";

// Watch rules (issue #17 item 4) as an admin and an employee meet them in the portal: the admin adds a rule on the
// app's settings page, another employee changes a deal's amount on its card, and the deal's responsible person
// finds the notification in the portal's notifications (im.notify.personal.add from the app's worker).
const DEAL = 12;
const AMOUNT = /4[\s,.\u00a0\u202f]?321/; // as the user's locale writes the money: 4,321.00 / 4 321,00

test("a watch rule tells a deal's responsible person, in the portal's notifications, when someone changes its amount", async ({ page }) => {
  await fetch(`${portal()}/_fake/crm/deal/${DEAL}`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ fields: { ASSIGNED_BY_ID: "3" }, userId: 1 }) }); // Clara Sales is responsible
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  // the settings page has set itself up through B24Frame (its height fitted) before we click in it
  await page.waitForFunction(() => ((window as unknown as { __frameLog?: string[] }).__frameLog ?? []).includes("resizeWindow"));
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
