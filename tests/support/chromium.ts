import { existsSync } from "node:fs";
import type { LaunchOptions } from "@playwright/test";

// How the e2e tests (playwright.config.ts) and the UI benchmark (bench/ui.ts) start Chromium: Debian's Chromium where
// present (`npx playwright install` cannot download on our machines), Playwright's own browser elsewhere. The flags
// keep Chromium from reaching for the network at start-up.
const DEBIAN_CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_LAUNCH: LaunchOptions = {
  executablePath: existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};
