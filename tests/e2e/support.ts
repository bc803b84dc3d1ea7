// Shared by the browser specs: where the stack runs, and a screenshot of the whole page with the app's frame in it.
import { expect, test, type Page } from "@playwright/test";

export const portal = () => process.env.E2E_PORTAL_URL!;
export const app = () => process.env.E2E_APP_URL!;

/** After the app has sized its frame through B24Frame (resizeWindow), so the screenshot shows the whole page. */
export async function shot(page: Page, name: string) {
  await page.waitForFunction(() =>
    ((window as unknown as { __frameLog?: string[] }).__frameLog ?? []).includes("resizeWindow"),
  );
  // A tall cross-site frame renders only where the viewport is: grow the viewport to the page instead of fullPage.
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({
    width: size.width,
    height: Math.min(8000, await page.evaluate(() => document.documentElement.scrollHeight)),
  });
  await page.screenshot({ path: test.info().outputPath(`${name}.png`) });
  await page.setViewportSize(size);
}

/**
 * The app's frame is as tall as the app last asked (resizeWindow with its body's height): no re-fit is pending that
 * would move a link under a click — e.g. after shot() or once local times have replaced the server's text.
 */
export async function frameSettled(page: Page) {
  await expect
    .poll(async () => {
      try {
        const want = await page
          .frameLocator("#app-frame")
          .locator("body")
          .evaluate((b) => Math.max(200, Math.ceil(b.getBoundingClientRect().height)));
        return (await page.locator("#app-frame").evaluate((f) => parseInt((f as HTMLElement).style.height, 10))) - want;
      } catch (e) {
        // the frame is still loading its page (the sign-in POST, its 303, the page): not settled yet, ask again
        if (/Execution context was destroyed|navigat/i.test(String(e))) return "navigating";
        throw e;
      }
    })
    .toBe(0);
}

/**
 * The admin page's developer console (bindings, queues, logs, diagnostics) sits in a closed disclosure under the
 * settings: opened as a person opens it, with a click on its summary.
 */
export async function openDiagnostics(page: Page, lang: "en" | "ru" = "en") {
  const frame = page.frameLocator("#app-frame");
  // the summary sits at the page's end: a click aimed before the frame's height is fitted lands beside it (the
  // frame grows under it) and opens nothing — this test failed so once, at 1280 px
  await frameSettled(page);
  await frame.locator("summary", { hasText: lang === "ru" ? "Диагностика" : "Diagnostics" }).click();
  await expect(frame.locator("details#diagnostics-panel")).toHaveAttribute("open", "");
}
