import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { PARENT_JS } from "./ui/parent-js";

// The fake portal's openPath (b24restdocs sdk/bx24-js-sdk/additional-functions/bx24-open-path.md): a path under an
// allowed prefix opens, resolved, in a slider, and the answer comes when the slider closes ({result: "close"});
// any other path answers PATH_NOT_AVAILABLE at once and opens nothing.
const APP = "http://app.test";

interface Node {
  id: string;
  src?: string;
  textContent: string;
  style: { cssText?: string };
  children: Node[];
  onclick?: () => void;
  setAttribute(): void;
  appendChild(n: Node): void;
  remove(): void;
}

function portalPage() {
  const replies: string[] = [];
  const nodes = new Map<string, Node>();
  const element = (): Node => {
    const n: Node = {
      id: "",
      textContent: "",
      style: {},
      children: [],
      setAttribute: () => undefined,
      appendChild: (c) => {
        n.children.push(c);
        for (const x of [c, ...c.children]) if (x.id) nodes.set(x.id, x);
      },
      remove: () => {
        nodes.delete(n.id);
      },
    };
    return n;
  };
  const frame = { ...element(), contentWindow: { postMessage: (m: string) => void replies.push(m) } };
  const body = element();
  let onMessage: (e: { origin: string; data: string }) => void = () => undefined;
  const window = {
    __FRAME__: {
      handler: `${APP}/bitrix/app`,
      placement: "DEFAULT",
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
    location: { origin: "http://portal.test" },
  } as Record<string, unknown>;
  const document = {
    body,
    createElement: element,
    getElementById: (id: string) => (id === "app-frame" ? frame : (nodes.get(id) ?? null)),
  };
  const fetch = () => Promise.reject(new Error("no"));
  runInNewContext(PARENT_JS, { window, document, URL, Promise, JSON, setTimeout, fetch });
  const send = (params: unknown, cb: string) =>
    onMessage({ origin: APP, data: `openPath:${JSON.stringify(params)}:${cb}:SID` });
  const settled = () => new Promise((r) => setTimeout(r, 0));
  return { send, replies, nodes, window, settled };
}

describe("the fake portal's openPath", () => {
  it("opens an allowed path, as b24jssdk sends it, in a slider and answers close when it is closed", async () => {
    const page = portalPage();
    const sdkPath = "/crm/type/0/details/0/../../../../../crm/deal/details/14/?IFRAME=Y&IFRAME_TYPE=SIDE_SLIDER";
    page.send({ path: sdkPath }, "o1");
    await page.settled();
    expect(page.nodes.get("slider-frame")?.src).toBe("/crm/deal/details/14/?IFRAME=Y&IFRAME_TYPE=SIDE_SLIDER");
    expect(page.window.__openedPath).toBe("/crm/deal/details/14/");
    expect(page.replies).toEqual([]); // Bitrix24 answers only on an error or when the slider closes
    page.nodes.get("slider-close")!.onclick!();
    await page.settled();
    expect(page.replies).toEqual([`o1:${JSON.stringify({ result: "close" })}`]);
  });

  it("answers PATH_NOT_AVAILABLE for a path outside the allowed prefixes and opens nothing", async () => {
    const page = portalPage();
    page.send({ path: "/crm/quote/show/7/" }, "o2");
    await page.settled();
    expect(page.replies).toEqual([`o2:${JSON.stringify({ result: "error", errorCode: "PATH_NOT_AVAILABLE" })}`]);
    expect(page.nodes.get("slider")).toBeUndefined();
  });
});
