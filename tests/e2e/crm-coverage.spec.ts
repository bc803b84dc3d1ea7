import { expect, test } from "@playwright/test";
import { portal, shot } from "./support";

// Issue #14 as a CRM user and an admin see it in the (fake) portal: a deal moved to another funnel (Bitrix24 fires
// only ONCRMDEALMOVETOCATEGORY, never ONCRMDEALUPDATE), a product row's quantity changed (no event of its own: the
// owner's update arrives), and a smart process an admin creates after the install, which gets its tab at once.

/** Reopens the card's first tab until the app's history shows `text` (the worker captures through the queue). */
async function untilTabShows(page: import("@playwright/test").Page, cardUrl: string, text: RegExp | string) {
  const frame = page.frameLocator("#app-frame");
  await expect(async () => {
    await page.goto(`${cardUrl}${cardUrl.includes("?") ? "&" : "?"}tab=0`);
    await expect(frame.getByText(text).first()).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  return frame;
}

test("a deal moved to another funnel shows the move in its Change history tab", async ({ page }) => {
  await page.goto(`${portal()}/crm/deal/details/6/?user=2`);
  await page.locator("#move-category").selectOption({ label: "Wholesale" });
  await page.getByRole("button", { name: "Move" }).click();
  await expect(page.locator("#move-category")).toHaveValue("1");

  const frame = await untilTabShows(page, `${portal()}/crm/deal/details/6/?user=2`, "Wholesale");
  const row = frame.getByRole("row").filter({ hasText: "Wholesale" }).first();
  await expect(row).toContainText("General"); // from the funnel it left
  await expect(frame.getByRole("cell", { name: "Boris Manager" }).first()).toBeVisible(); // the change set's author
  await shot(page, "deal-funnel-move");
});

test("a product row's quantity change shows in the deal's Change history tab", async ({ page }) => {
  await page.goto(`${portal()}/crm/deal/details/2/?user=2`);
  const quantity = page.locator("#product-rows input[name=quantity]").first();
  await quantity.fill("37");
  await page.getByRole("button", { name: "Save quantity" }).first().click();
  await expect(page.locator("#product-rows input[name=quantity]").first()).toHaveValue("37");

  const frame = await untilTabShows(page, `${portal()}/crm/deal/details/2/?user=2`, /quantity \d+ → 37/);
  const row = frame
    .getByRole("row")
    .filter({ hasText: /quantity \d+ → 37/ })
    .first();
  await expect(row).toContainText("Boris Manager");
  await shot(page, "deal-product-row-quantity");
});

test("a smart process created after the install gets its Change history tab without a reinstall", async ({ page }) => {
  const res = await page.request.post(`${portal()}/_fake/crm-types`, { data: { action: "add", title: "Vendors" } });
  expect(res.ok()).toBe(true);
  const type = (await res.json()) as { entityTypeId: number }; // the control API answers the value itself
  const item = await page.request.post(`${portal()}/_fake/items/${type.entityTypeId}/new`, {
    data: { fields: { title: "Vendor one" }, userId: 1 },
  });
  expect(item.ok()).toBe(true);
  const id = ((await item.json()) as { id: number }).id;

  // ONCRMTYPEADD → the app reads crm.type.list again and binds CRM_DYNAMIC_<id>_DETAIL_TAB: no reinstall.
  const card = `${portal()}/crm/type/${type.entityTypeId}/details/${id}/?user=1`;
  await expect(async () => {
    await page.goto(card);
    await expect(page.getByRole("link", { name: "Change history" })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  await page.getByRole("link", { name: "Change history" }).click();
  await expect(page.frameLocator("#app-frame").getByRole("heading", { name: "Change history" })).toBeVisible();
  await shot(page, "new-smart-process-tab");
});
