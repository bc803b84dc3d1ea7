import { expect, test } from "@playwright/test";

test("the production build serves the app and reaches its database", async ({ page, request }) => {
  const app = process.env.E2E_APP_URL!;
  const health = await request.get(`${app}/api/health`);
  expect(await health.json()).toEqual({ ok: true });
  await page.goto(app);
  await expect(page.getByRole("heading", { name: "Change History for Bitrix24" })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("home.png") });
});
