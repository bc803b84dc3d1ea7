import { expect, test } from "@playwright/test";
import { app, openDiagnostics, portal, shot } from "./support";

// As a person would: the app inside the fake Bitrix24 (portal on 127.0.0.1, app on localhost — cross-site frames).

test("an admin sees the settings page, breaks a binding in the portal and repairs it with Rebind", async ({ page }) => {
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByRole("heading", { name: "Change History — settings" })).toBeVisible();
  // The settings come first; the developer console is one click below them.
  await expect(frame.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();
  await expect(frame.getByRole("heading", { name: "Capabilities" })).toBeHidden();
  await openDiagnostics(page);
  await expect(frame.getByRole("heading", { name: "Capabilities" })).toBeVisible();
  // The app drives the real parent protocol through B24Frame: title and height come from the app.
  await expect(page.locator("#frame-title")).toHaveText("Change History — settings");
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { __frameLog?: string[] }).__frameLog ?? []))
    .toContain("resizeWindow");
  await shot(page, "admin-settings");

  await fetch(`${portal()}/_fake/bindings/delete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ event: "ONCRMDEALUPDATE" }),
  });
  await frame.getByRole("button", { name: "Rebind" }).click();
  await expect(frame.getByRole("region", { name: "Event bindings" }).getByRole("status")).toContainText(
    "Bindings repaired: 1",
  );
  const state = (await (await fetch(`${portal()}/_fake/state`)).json()) as { bindings: { event: string }[] };
  expect(state.bindings.map((b) => b.event)).toContain("ONCRMDEALUPDATE");

  await frame.getByRole("button", { name: "Run diagnostics" }).click();
  await expect(frame.getByRole("list", { name: "Diagnostics report" })).toContainText("Bindings verified");
  await shot(page, "admin-diagnostics");
});

test("an admin runs the backfill again and watches it finish", async ({ page }) => {
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await openDiagnostics(page);
  await expect(frame.getByText("Nothing is running.")).toBeVisible();
  // every type is read through crm.item.list (decision 015): the pass's lists of all types count here
  const itemLists = async () =>
    ((await (await fetch(`${portal()}/_fake/counters`)).json()) as { rest: Record<string, number> }).rest[
      "crm.item.list"
    ] ?? 0;
  const before = await itemLists();
  // The pass waits at its first call (the deals' count, `start: 0`) until the page has shown it running: a small
  // portal's pass could otherwise finish between two polls, and the page would rightly never show it running.
  const control = (route: string, body: object) =>
    fetch(`${portal()}/_fake/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  await control("hold", { method: "crm.item.list", contains: '"entityTypeId":2,"select":["id"],"start":0' });
  await frame.getByRole("button", { name: "Run backfill" }).click();
  await expect(frame.getByRole("status").filter({ hasText: "A new backfill pass is queued" })).toBeVisible();
  await expect(frame.getByText("Nothing is running.")).toHaveCount(0); // the new pass shows as running
  // The page shows the pass running as soon as it is queued; the worker's first call may come later (a loaded CI
  // machine): release only once the fake holds it, or the release would find nothing held.
  const holding = async () =>
    ((await (await fetch(`${portal()}/_fake/holds`)).json()) as { held: boolean }[]).some((h) => h.held);
  await expect.poll(holding, { timeout: 30_000 }).toBe(true);
  expect(((await (await control("release", { method: "crm.item.list" })).json()) as { held: boolean }).held).toBe(true);
  // The bars follow the worker live (no reload) until the pass has read every entity, the last one too.
  await expect.poll(itemLists, { timeout: 60_000 }).toBeGreaterThan(before);
  for (const entity of ["deal", "contact", "company", "lead"])
    await expect(frame.getByRole("progressbar", { name: `${entity} — done` })).toBeVisible({ timeout: 30_000 });
  await expect(frame.getByText("Nothing is running.")).toBeVisible({ timeout: 30_000 });
  await page.reload();
  await openDiagnostics(page);
  await expect(frame.getByRole("progressbar", { name: "lead — done" })).toBeVisible();
  await expect(frame.getByRole("row").filter({ hasText: "backfill.requested" }).first()).toBeVisible();
  await shot(page, "admin-backfill-done");
});

test("the settings page speaks the portal's language (LANG=ru), at 1280 px and in a 400 px frame without sideways scrolling", async ({
  page,
}) => {
  for (const width of [1280, 400]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${portal()}/marketplace/app/?user=1&lang=ru`);
    const frame = page.frameLocator("#app-frame");
    await expect(frame.getByRole("heading", { name: "История изменений — настройки" })).toBeVisible();
    await expect(frame.getByRole("heading", { name: "Уведомления" })).toBeVisible();
    await openDiagnostics(page, "ru");
    await expect(frame.getByRole("button", { name: "Переподписать" })).toBeVisible();
    await expect(frame.getByRole("heading", { name: "События CRM" })).toBeVisible();
    expect(await frame.locator("body").evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true); // no sideways scrolling
    await shot(page, `admin-ru-${width}`);
    // The app sized its frame's height only: the frame still fits the portal's page.
    expect(await page.locator("#app-frame").evaluate((el) => el.getBoundingClientRect().right)).toBeLessThanOrEqual(
      width,
    );
  }
});

test("a non-admin gets a clear denied view", async ({ page }) => {
  await page.goto(`${portal()}/marketplace/app/?user=2`);
  await expect(page.frameLocator("#app-frame").getByText("This page is for portal administrators.")).toBeVisible();
  await shot(page, "admin-denied-non-admin");
  await page.goto(`${portal()}/?user=1`); // back to the admin for the other tests
});

for (const entity of ["deal", "contact", "company", "lead"]) {
  test(`the Change history tab opens on a ${entity} card`, async ({ page }) => {
    await page.goto(`${portal()}/crm/${entity}/details/2/?tab=0`);
    const frame = page.frameLocator("#app-frame");
    await expect(frame.getByRole("heading", { name: "Change history" })).toBeVisible();
    await expect(frame.getByText(`${entity} #2`)).toBeVisible();
    await shot(page, `tab-${entity}`);
  });
}

test("the toolbar widget opens on a deal card, in Russian", async ({ page }) => {
  await page.goto(`${portal()}/crm/deal/details/3/?widget=0&lang=ru`);
  await expect(page.frameLocator("#app-frame").getByRole("heading", { name: "Последние изменения" })).toBeVisible();
  await shot(page, "widget-ru");
});

test("keeps working when the browser blocks third-party cookies (session in the Authorization header)", async ({
  page,
}) => {
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByRole("heading", { name: "Change History — settings" })).toBeVisible();
  // What a browser that blocks third-party cookies leaves the frame with: no cookie at all.
  await page.context().clearCookies();
  expect(await page.context().cookies(app())).toEqual([]);
  const sent: Record<string, string>[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/api/admin/rebind")) sent.push(r.headers());
  });
  await openDiagnostics(page);
  await frame.getByRole("button", { name: "Rebind" }).click();
  await expect(frame.getByRole("region", { name: "Event bindings" }).getByRole("status")).toContainText(
    "Bindings repaired",
  );
  expect(sent[0]?.authorization).toMatch(/^Bearer /);
  expect(sent[0]?.cookie).toBeUndefined();
});

test("an expired session is renewed through B24Frame refreshAuth without a visible error", async ({ page }) => {
  await page.goto(`${portal()}/marketplace/app/?user=1`);
  const frame = page.frameLocator("#app-frame");
  await openDiagnostics(page);
  await expect(frame.getByRole("button", { name: "Rebind" })).toBeVisible();
  let first = true;
  await page.route(`${app()}/api/admin/rebind`, (route) => {
    if (!first) return route.continue();
    first = false; // the session token has expired: the app must renew it and retry
    return route.fulfill({
      status: 401,
      contentType: "application/json",
      body: JSON.stringify({ error: "unauthorized", message: "expired" }),
    });
  });
  await frame.getByRole("button", { name: "Rebind" }).click();
  await expect(frame.getByRole("region", { name: "Event bindings" }).getByRole("status")).toContainText(
    "Bindings repaired",
  );
  expect(await page.evaluate(() => (window as unknown as { __refreshes?: number }).__refreshes)).toBe(1);
});

test("app pages may be framed only by their own portal", async ({ request }) => {
  const auth = (await (
    await fetch(`${portal()}/_fake/frame-auth`, { method: "POST", body: JSON.stringify({ userId: 1 }) })
  ).json()) as Record<string, string>;
  const form = new URLSearchParams({
    AUTH_ID: auth.AUTH_ID!,
    member_id: auth.member_id!,
    APPLICATION_TOKEN: auth.APPLICATION_TOKEN!,
    PLACEMENT: "DEFAULT",
    PLACEMENT_OPTIONS: "{}",
  });
  const handoff = await request.post(`${app()}/bitrix/app?DOMAIN=x&LANG=en`, {
    data: form.toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    maxRedirects: 0,
  });
  expect(handoff.status()).toBe(303);
  const cookie = handoff.headers()["set-cookie"] ?? "";
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/Secure/);
  expect(cookie).toMatch(/SameSite=None/);
  expect(cookie).toMatch(/Partitioned/);
  const page = await request.get(`${app()}${handoff.headers().location}`, { maxRedirects: 0 });
  expect(page.headers()["content-security-policy"]).toBe(`frame-ancestors ${portal()}`);
  expect(page.headers()["referrer-policy"]).toBe("no-referrer");
});
