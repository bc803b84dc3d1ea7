// The app (its real route handlers over HTTP) wired to a fake Bitrix24, with the configuration a deployment has.
import { startFakeBitrix, type RunningFake } from "../fake-portal/index";
import { resetEnvForTests } from "@/lib/env";
import { startAppServer } from "./app-server";

export async function startAppWithFake(opts: { portals?: number; deals?: number } = {}) {
  const app = await startAppServer();
  process.env.APP_URL = app.url;
  const fake: RunningFake = await startFakeBitrix({
    portals: opts.portals ?? 1,
    seed: { deals: opts.deals ?? 30, contacts: 5, companies: 5, leads: 5 },
    app: { clientId: process.env.BITRIX_CLIENT_ID!, clientSecret: process.env.BITRIX_CLIENT_SECRET!, appUrl: app.url },
  });
  process.env.BITRIX_OAUTH_URL = fake.oauthUrl;
  process.env.BITRIX_OAUTH_ALLOWED = fake.oauthUrl;
  resetEnvForTests();
  const portal = (i = 0) => fake.portals[i]!;
  const control = async (route: string, body: unknown = {}, i = 0, method = "POST") => {
    const res = await fetch(`${portal(i).baseUrl}/_fake/${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify(body),
    });
    return res.json() as Promise<Record<string, unknown>>;
  };
  const state = (i = 0) => fake.fake.portals[i]!;
  return {
    app,
    fake,
    portal,
    control,
    state,
    stop: async () => {
      await fake.stop();
      await app.stop();
    },
  };
}

export async function waitUntil(pred: () => Promise<boolean> | boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
