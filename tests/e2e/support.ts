// Shared by the browser specs: where the stack runs, and a screenshot of the whole page with the app's frame in it.
import { test, type Page } from "@playwright/test";

export const portal = () => process.env.E2E_PORTAL_URL!;
export const app = () => process.env.E2E_APP_URL!;

/** After the app has sized its frame through B24Frame (resizeWindow), so the screenshot shows the whole page. */
export async function shot(page: Page, name: string) {
  await page.waitForFunction(() => ((window as unknown as { __frameLog?: string[] }).__frameLog ?? []).includes("resizeWindow"));
  // A tall cross-site frame renders only where the viewport is: grow the viewport to the page instead of fullPage.
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: size.width, height: Math.min(8000, await page.evaluate(() => document.documentElement.scrollHeight)) });
  await page.screenshot({ path: test.info().outputPath(`${name}.png`) });
  await page.setViewportSize(size);
}
