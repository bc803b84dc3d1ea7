import { expect, test } from "@playwright/test";
import { portal, shot } from "./support";

// A smart process as a CRM user sees it (issue #14): edit a custom field on a "Projects" card in the (fake) portal,
// open the card's Change history tab (CRM_DYNAMIC_128_DETAIL_TAB, bound by the app from crm.type.list).
test("a field edited on a smart-process card appears in its Change history tab", async ({ page }) => {
  await page.goto(`${portal()}/crm/type/128/details/3/?user=2`);
  await page.getByLabel("Project code").fill("PRJ-EDITED");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByLabel("Project code")).toHaveValue("PRJ-EDITED");

  // The worker picks the change up through the offline queue (ONCRMDYNAMICITEMUPDATE → drain → inbox → diff).
  const frame = page.frameLocator("#app-frame");
  await expect(async () => {
    await page.goto(`${portal()}/crm/type/128/details/3/?tab=0&user=2`);
    await expect(frame.getByRole("cell", { name: "PRJ-EDITED" })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  const row = frame.getByRole("row").filter({ hasText: "PRJ-EDITED" });
  await expect(row).toContainText("Project code");
  await expect(row).toContainText("Boris Manager");
  await shot(page, "smart-process-history-tab");
});
