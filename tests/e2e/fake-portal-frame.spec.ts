import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startFakeBitrix, type RunningFake } from "../fake-portal/index";

// The REAL @bitrix24/b24jssdk (its UMD build) inside the fake portal's iframe: the portal on 127.0.0.1, the test app
// on localhost — two different sites, as on Bitrix24. The SDK must not be able to tell the fake from Bitrix24.
const SDK = readFileSync(path.resolve("node_modules/@bitrix24/b24jssdk/dist/umd/index.min.js"), "utf8");
const APP_PAGE = `<!doctype html><html><body><h1 id="status">loading</h1><div id="box" style="height:300px">app</div>
<script src="/sdk.js"></script><script>
(async () => {
  const $b24 = await B24Js.initializeB24Frame();
  window.$b24 = $b24;
  const me = await $b24.actions.v2.call.make({ method: "user.current" });
  document.getElementById("status").textContent = "ready:" + me.getData().result.NAME + ":" + $b24.placement.title;
})().catch((e) => { document.getElementById("status").textContent = "error:" + e; });
</script></body></html>`;

let fake: RunningFake;
let app: Server;
let appUrl: string;

test.beforeAll(async () => {
  app = createServer((req, res) => {
    if (req.url?.startsWith("/sdk.js")) return void res.writeHead(200, { "content-type": "text/javascript" }).end(SDK);
    req.resume();
    res.writeHead(200, { "content-type": "text/html" }).end(APP_PAGE); // the frame's POST lands here, like any app handler
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
  fake = await startFakeBitrix({ app: { clientId: "app.sdk", clientSecret: "s", appUrl } });
});
test.afterAll(async () => {
  await fake.stop();
  app.close();
});

test("the real b24jssdk initialises, calls REST, refreshes auth and resizes inside the fake portal", async ({
  page,
}) => {
  const portal = fake.portals[0]!.baseUrl;
  await page.goto(
    `${portal}/frame?handler=${encodeURIComponent(`${appUrl}/app`)}&placement=CRM_DEAL_DETAIL_TAB&options=${encodeURIComponent('{"ID":"7"}')}`,
  );
  const frame = page.frameLocator("#app-frame");
  await expect(frame.locator("#status")).toHaveText("ready:Anna:CRM_DEAL_DETAIL_TAB");

  // Forced expiry: the next call gets 401 expired_token, the SDK asks the parent (refreshAuth) and retries.
  await fetch(`${portal}/_fake/tokens/expire`, { method: "POST" });
  const title = await page.frames()[1]!.evaluate(async () => {
    const w = window as unknown as {
      $b24: {
        actions: {
          v2: { call: { make(a: object): Promise<{ getData(): { result: { NAME: string; ID: string } } }> } };
        };
      };
    };
    const r = await w.$b24.actions.v2.call.make({ method: "crm.deal.get", params: { id: 7 } });
    return r.getData().result.ID;
  });
  expect(title).toBe("7");
  expect(
    await page.evaluate(() => (window as unknown as { __refreshes?: number }).__refreshes ?? 0),
  ).toBeGreaterThanOrEqual(1);

  await page.frames()[1]!.evaluate(async () => {
    const w = window as unknown as {
      $b24: { parent: { resizeWindow(w: number, h: number): Promise<unknown>; setTitle(t: string): Promise<unknown> } };
    };
    await w.$b24.parent.resizeWindow(640, 480);
    await w.$b24.parent.setTitle("History of deal 7");
  });
  await expect(page.locator("#app-frame")).toHaveCSS("height", "480px");
  // A placement frame may not retitle the portal's page (core components/bitrix/app.layout): the parent leaves
  // setTitle unanswered and the SDK's isSafely timer settles it.
  expect(await page.evaluate(() => (window as unknown as { __frameRefused?: string[] }).__frameRefused)).toEqual([
    "setTitle",
  ]);
  await expect(page.locator("#frame-title")).not.toHaveText("History of deal 7");
  await page.screenshot({ path: test.info().outputPath("sdk-in-fake-portal.png") });
});
