import { expect, test } from "@playwright/test";

// The UI install as a portal admin does it: the installer opens in the portal's iframe with the real form POST and
// window.name; the app confirms the installation with the OAuth server, binds what it needs, and finishes it through
// B24Frame's installFinish() — which the portal waits for.
test("installs from the portal's installer page and finishes through installFinish()", async ({ page }) => {
  const portal = process.env.E2E_PORTAL2_URL!;
  const state = async () => (await (await fetch(`${portal}/_fake/state`)).json()) as { app: { installed: boolean; finished: boolean }; bindings: unknown[] };
  await fetch(`${portal}/_fake/uninstall`, { method: "POST", body: JSON.stringify({ clean: true }) });
  expect((await state()).app.finished).toBe(false);

  await page.goto(`${portal}/marketplace/install/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByText("The app is installed.")).toBeVisible();
  await expect.poll(async () => (await state()).app.finished, { timeout: 20_000 }).toBe(true);
  expect((await state()).bindings.length).toBeGreaterThan(10);
  await expect(frame.getByRole("status")).toHaveText("Installation finished.");
  await page.screenshot({ path: test.info().outputPath("installed-in-browser.png"), fullPage: true });
});
