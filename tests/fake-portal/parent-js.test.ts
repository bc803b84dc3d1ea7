import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { PARENT_JS } from "./ui/parent-js";

// The portal page's side of the frame protocol, run against stand-ins for the page's iframe and title: a placement
// frame gets no answer to setTitle / setScroll / reloadWindow (core components/bitrix/app.layout), the main page does.
const APP = "http://app.test";

function portalPage(placement: string) {
  const replies: string[] = [];
  const waiting = new Map<string, () => void>();
  const node = () => ({ textContent: "", style: {} as Record<string, string> });
  const title = node();
  const frame = {
    ...node(),
    contentWindow: {
      postMessage: (m: string) => {
        replies.push(m);
        waiting.get(m.split(":")[0]!)?.();
      },
    },
  };
  let onMessage: (e: { origin: string; data: string }) => void = () => undefined;
  const window = {
    __FRAME__: {
      handler: `${APP}/bitrix/placement`,
      placement,
      lang: "en",
      domain: "portal.test",
      memberId: "m",
      userId: 1,
      auth: { AUTH_ID: "a", AUTH_EXPIRES: "3600", REFRESH_ID: "r" },
      isAdmin: true,
      installFinished: true,
      appOptions: {},
      placementOptions: {},
    },
    addEventListener: (_: string, h: typeof onMessage) => {
      onMessage = h;
    },
    scrollTo: () => undefined,
    location: { reload: () => undefined },
  } as Record<string, unknown>;
  const document = {
    title: "",
    getElementById: (id: string) => (id === "app-frame" ? frame : id === "frame-title" ? title : null),
  };
  runInNewContext(PARENT_JS, {
    window,
    document,
    URL,
    Promise,
    JSON,
    setTimeout,
    fetch: () => Promise.reject(new Error("no")),
  });
  /** Sends a command and resolves when the parent answers a marker sent after it: every earlier answer is in. */
  const send = async (command: string, params: unknown, cb: string) => {
    onMessage({ origin: APP, data: `${command}:${JSON.stringify(params)}:${cb}:SID` });
    const marker = new Promise<void>((r) => waiting.set("marker", r));
    onMessage({ origin: APP, data: "getInitData::marker:SID" });
    await marker;
  };
  return { send, replies, title, window };
}

describe("frame commands of the main page only", () => {
  it("are refused in a placement frame: no answer, no effect", async () => {
    const page = portalPage("CRM_DEAL_DETAIL_TAB");
    await page.send("setTitle", { title: "History" }, "t1");
    await page.send("setScroll", { scroll: 10 }, "t2");
    await page.send("reloadWindow", {}, "t3");
    expect(page.replies.filter((m) => /^t\d:/.test(m))).toEqual([]);
    expect(page.title.textContent).toBe("");
    expect(page.window.__frameRefused).toEqual(["setTitle", "setScroll", "reloadWindow"]);
    await page.send("getInterface", {}, "i1");
    const commands = (JSON.parse(page.replies.find((m) => m.startsWith("i1:"))!.slice(3)) as { command: string[] })
      .command;
    expect(commands).toContain("resizeWindow");
    expect(commands).not.toContain("setTitle");
  });

  it("are answered on the app's main page", async () => {
    const page = portalPage("DEFAULT");
    await page.send("setTitle", { title: "Change History — settings" }, "t1");
    expect(page.replies).toContain(`t1:${JSON.stringify({ title: "Change History — settings" })}`);
    expect(page.title.textContent).toBe("Change History — settings");
  });
});
