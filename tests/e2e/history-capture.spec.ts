import { expect, test } from "@playwright/test";

// The product as a CRM user sees it: edit a field on a card in the (fake) portal, open the Change history tab.
test("a field edited on the portal's deal card appears in the app's Change history tab", async ({ page }) => {
  const portal = process.env.E2E_PORTAL_URL!;
  await page.goto(`${portal}/crm/deal/details/5/?user=2`);
  await page.getByLabel("Name").fill("Edited in the browser");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { name: "Edited in the browser" })).toBeVisible();

  // The worker picks the change up through the offline queue (ONOFFLINEEVENT → drain → inbox → diff).
  await expect(async () => {
    await page.goto(`${portal}/crm/deal/details/5/?tab=0`);
    await expect(page.frameLocator("#app-frame").getByRole("cell", { name: "Edited in the browser" })).toBeVisible({
      timeout: 2000,
    });
  }).toPass({ timeout: 60_000 });
  const row = page.frameLocator("#app-frame").getByRole("row").filter({ hasText: "Edited in the browser" });
  await expect(row).toContainText("Name");
  await expect(row).toContainText("Boris Manager");
  await page.screenshot({ path: test.info().outputPath("history-tab-after-edit.png"), fullPage: true });

  // An admin attaches the history as CSV to the timeline, then reverts the edit.
  await page.goto(`${portal}/crm/deal/details/5/?tab=0&user=1`);
  const frame = page.frameLocator("#app-frame");
  await frame.getByRole("button", { name: "Attach history as CSV" }).click();
  await expect(frame.getByRole("status").first()).toContainText("Attached to the timeline: history-deal-5.csv");
  await frame
    .getByRole("row")
    .filter({ hasText: "Edited in the browser" })
    .getByRole("button", { name: "Revert" })
    .click();
  // confirmed in the page's own Bitrix24-style dialog, not the browser's confirm() (issue #16 item 5)
  await frame
    .getByRole("alertdialog", { name: "Revert this change?" })
    .getByRole("button", { name: "Revert", exact: true })
    .click();
  await expect
    .poll(async () => ((await (await fetch(`${portal}/_fake/crm?entity=deal&id=5`)).json()) as { TITLE: string }).TITLE)
    .not.toBe("Edited in the browser");
  await page.screenshot({ path: test.info().outputPath("history-tab-after-revert.png"), fullPage: true });
});
