// The step most integration suites start with: install the app on a fake portal through the installer form, as an
// admin's browser does (finished with installFinish), then look up the portal row the install left.
import { getDb } from "@/lib/db";
import { processInboxBatch } from "@/lib/events/inbox";
import { drainOffline } from "@/lib/events/offline";
import type { startAppWithFake } from "./lifecycle-env";

type Env = Pick<Awaited<ReturnType<typeof startAppWithFake>>, "control" | "portal">;

export async function installPortal(env: Env, i = 0) {
  const res = (await env.control("install", { mode: "ui", finish: true }, i)) as { status?: number; text?: string };
  // The installer answers 303 to the finish page; anything else is a broken install, not a portal to test with.
  if (res.status !== 303) throw new Error(`installing portal ${i} answered ${res.status}: ${res.text?.slice(0, 300)}`);
  return getDb().portal.findUniqueOrThrow({ where: { memberId: env.portal(i).memberId } });
}

/** What a worker would do next for the portal's captured edits: drain its offline queue, then process the inbox. */
export async function settleCapture(portalId: string) {
  await drainOffline(portalId);
  while (await processInboxBatch("test", 50));
}
