import { expect, test } from "@playwright/test";
import { portal, shot } from "./support";

// An employee inside the portal (issue #18 item 1, #20): the tab of a deal they may read shows its history; the tab of
// a deal Bitrix24 refuses them shows a plain refusal and none of its values — in English and Russian, wide and narrow.
const EMPLOYEE = 2;
const rights = (body: object) =>
  fetch(`${portal()}/_fake/rights`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

test.beforeAll(async () => {
  // A value only deal 5's history holds, written by the admin; then deal 5 is closed to the employee.
  await fetch(`${portal()}/_fake/crm/deal/5`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fields: { COMMENTS: "Confidential margin 31%" }, userId: 1 }),
  });
  await rights({ userId: EMPLOYEE, entity: "deal", id: 5, read: false });
});
test.afterAll(async () => {
  await rights({ userId: EMPLOYEE, entity: "deal", id: 5, read: true });
});

for (const [lang, width] of [
  ["en", 1280],
  ["ru", 400],
] as const) {
  test(`an employee sees what Bitrix24 lets them see (${lang}, ${width} px)`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${portal()}/crm/deal/details/4/?tab=0&user=${EMPLOYEE}&lang=${lang}`);
    const frame = page.frameLocator("#app-frame");
    await expect(
      frame.getByRole("heading", { name: lang === "ru" ? "История изменений" : "Change history" }),
    ).toBeVisible();
    await shot(page, `employee-tab-allowed-${lang}-${width}`);

    await page.goto(`${portal()}/crm/deal/details/5/?tab=0&user=${EMPLOYEE}&lang=${lang}`);
    const refusal =
      lang === "ru"
        ? "Ваши права в Битрикс24 не позволяют видеть эту запись"
        : "Your Bitrix24 access rights do not let you see this record";
    // The page's own alert (Next.js adds an empty route announcer, role="alert", outside <main>).
    await expect(frame.getByRole("main").getByRole("alert")).toContainText(refusal);
    await expect(frame.locator("body")).not.toContainText("Confidential margin");
    await shot(page, `employee-tab-denied-${lang}-${width}`);
    const overflow = await frame.locator("body").evaluate((b) => b.scrollWidth - b.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0); // no horizontal scrollbar
  });
}
