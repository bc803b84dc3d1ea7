import { expect, test } from "@playwright/test";

// The UI install as a portal admin does it: the installer opens in the portal's iframe with the real form POST and
// window.name; the app confirms the installation with the OAuth server, binds what it needs, and finishes it through
// B24Frame's installFinish() — which the portal waits for. The form is the one Bitrix24's core posts: no
// SERVER_ENDPOINT, APPLICATION_TOKEN or APPLICATION_SCOPE; the application_token arrives with ONAPPINSTALL, which the
// portal sends to the install handler once the install is finished.
test("installs from the portal's installer page and finishes through installFinish()", async ({ page }) => {
  const portal = process.env.E2E_PORTAL2_URL!;
  type State = {
    memberId: string;
    app: { installed: boolean; finished: boolean; applicationToken: string };
    bindings: unknown[];
  };
  const state = async () => (await (await fetch(`${portal}/_fake/state`)).json()) as State;
  await fetch(`${portal}/_fake/uninstall`, { method: "POST", body: JSON.stringify({ clean: true }) });
  expect((await state()).app.finished).toBe(false);

  const installerPosts: string[][] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/api/bitrix/install")
      installerPosts.push([...new URLSearchParams(r.postData() ?? "").keys()]);
  });
  await page.goto(`${portal}/marketplace/install/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByText("The app is installed.")).toBeVisible();
  await expect.poll(async () => (await state()).app.finished, { timeout: 20_000 }).toBe(true);
  expect((await state()).bindings.length).toBeGreaterThan(10);
  await expect(frame.getByRole("status")).toHaveText("Installation finished.");
  expect(installerPosts[0]).toEqual(["AUTH_ID", "AUTH_EXPIRES", "REFRESH_ID", "member_id", "status", "PLACEMENT"]);

  // The application_token came with ONAPPINSTALL (the portal sent it before answering installFinish): the app now
  // accepts events signed with it.
  const s = await state();
  const event = new URLSearchParams({
    event: "ONCRMDEALUPDATE",
    "data[FIELDS][ID]": "1",
    ts: String(Math.floor(Date.now() / 1000)),
    "auth[member_id]": s.memberId,
    "auth[application_token]": s.app.applicationToken,
  });
  const res = await fetch(`${process.env.E2E_APP_URL}/api/bitrix/events`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: event,
  });
  expect(res.status).toBe(200);
  await page.screenshot({ path: test.info().outputPath("installed-in-browser.png"), fullPage: true });
});
