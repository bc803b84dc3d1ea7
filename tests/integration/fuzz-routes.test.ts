import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { fuzzCases } from "../support/fuzz";
import { startAppWithFake } from "../support/lifecycle-env";

// Thousands of malformed bodies to every public Bitrix24-facing route: only 4xx, never a 5xx or a hang, nothing
// written. The installed portal makes sure a body that gets past parsing meets real verification.
const ROUTES = ["/api/bitrix/events", "/api/bitrix/install", "/bitrix/app", "/bitrix/placement"] as const;
const COUNT = Number(process.env.FUZZ_CASES ?? 1500);

beforeAll(async () => {
  const env = await startAppWithFake();
  await env.control("install", { mode: "ui", finish: true });
});

async function rowCounts() {
  const db = getDb();
  const [portals, inbox, tokens, jobs] = await Promise.all([
    db.portal.count(),
    db.eventInbox.count(),
    db.tokenSet.count(),
    db.job.count(),
  ]);
  return { portals, inbox, tokens, jobs };
}

describe.each(ROUTES)("fuzzing POST %s", (path) => {
  it(`answers ${COUNT} malformed bodies with 4xx only and writes nothing`, async () => {
    const handler = (await import(`@/app${path}/route`)) as { POST: (r: Request) => Promise<Response> };
    const before = await rowCounts();
    const statuses = new Map<number, number>();
    for (const c of fuzzCases(COUNT, path.length)) {
      const headers: Record<string, string> = c.contentType ? { "content-type": c.contentType } : {};
      const res = await handler.POST(
        new Request(`http://app${path}?DOMAIN=x&LANG=en`, { method: "POST", headers, body: c.body as BodyInit }),
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status < 400 || res.status >= 500) throw new Error(`${c.name} → HTTP ${res.status}: ${await res.text()}`);
    }
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    const after = await rowCounts();
    expect(after).toEqual(before);
  });
});
