import "server-only";
import { bitrixFor, isBitrixError, type CallResult } from "@/lib/bitrix";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { loadTokens } from "@/lib/portals/tokens";
import { errorMessage } from "@/lib/error-message";

// Methods that need an admin's confirmation (seed: Method Confirm Lifecycle). Confirmation is bound to the access
// token it was requested with: a new token needs a new confirmation. Pending calls expire.
const PENDING_TTL_MS = 24 * 3600_000;

export type Deferred<T> = { status: "done"; result: CallResult<T> } | { status: "pending"; pendingId: string };

/**
 * How a pending call of a purpose is run again once confirmed, when that is more than repeating the raw call (a
 * revert also updates the snapshot and records itself). Returns the call's result; throws like a REST call would.
 */
export type PendingRunner = (call: { id: string; portalId: string; purpose: string | null }) => Promise<unknown>;
export type RunnerFor = (purpose: string | null) => PendingRunner | undefined;
const rawOnly: RunnerFor = () => undefined;

export async function callOrDefer<T = unknown>(
  portalId: string,
  method: string,
  params: Record<string, unknown>,
  purpose: string,
  opts: { authConnector?: string; alreadyPending?: boolean } = {},
): Promise<Deferred<T>> {
  try {
    return {
      status: "done",
      result: await (
        await bitrixFor(portalId)
      ).call<T>(method, params, { lane: "interactive", authConnector: opts.authConnector }),
    };
  } catch (e) {
    // A re-run of a pending call that still waits: its row stays the record, no second one.
    if (!isBitrixError(e) || e.code !== "METHOD_CONFIRM_WAITING" || opts.alreadyPending) throw e;
    const tokens = await loadTokens(portalId);
    const pending = await getDb().pendingCall.create({
      data: {
        portalId,
        method: method.toLowerCase(),
        params: params as object,
        purpose,
        tokenHash: sha256Hex(tokens?.accessToken ?? ""),
        expiresAt: new Date(Date.now() + PENDING_TTL_MS),
      },
    });
    return { status: "pending", pendingId: pending.id };
  }
}

async function rerun(id: string, runnerFor: RunnerFor) {
  const db = getDb();
  const call = await db.pendingCall.findUniqueOrThrow({ where: { id } });
  try {
    const runner = runnerFor(call.purpose);
    const result = runner
      ? await runner(call)
      : (
          await (
            await bitrixFor(call.portalId)
          ).call(call.method, call.params as Record<string, unknown>, { lane: "background" })
        ).result;
    await db.pendingCall.update({
      where: { id },
      data: { status: "done", result: { result } as object, resolvedAt: new Date() },
    });
  } catch (e) {
    const waiting = isBitrixError(e) && e.code === "METHOD_CONFIRM_WAITING";
    const tokens = waiting ? await loadTokens(call.portalId) : null;
    await db.pendingCall.update({
      where: { id },
      data: waiting
        ? { status: "pending", tokenHash: sha256Hex(tokens?.accessToken ?? "") }
        : { status: "failed", error: errorMessage(e), resolvedAt: new Date() },
    });
  }
}

/** ONAPPMETHODCONFIRM: re-run the matching pending calls only if CONFIRMED=1; record denials. */
export async function onMethodConfirm(
  portalId: string,
  token: string,
  method: string,
  confirmed: boolean,
  runnerFor: RunnerFor = rawOnly,
): Promise<number> {
  const db = getDb();
  await db.pendingCall.updateMany({
    where: { portalId, status: "pending", expiresAt: { lt: new Date() } },
    data: { status: "expired" },
  });
  const matches = await db.pendingCall.findMany({
    where: { portalId, status: "pending", method: method.toLowerCase(), tokenHash: sha256Hex(token) },
  });
  for (const call of matches) {
    if (confirmed) await rerun(call.id, runnerFor);
    else await db.pendingCall.update({ where: { id: call.id }, data: { status: "denied", resolvedAt: new Date() } });
  }
  return matches.length;
}

/** Admin action: try a pending/denied/failed call again (a new token may need a new confirmation). */
export async function rerunPendingCall(portalId: string, id: string, runnerFor: RunnerFor = rawOnly) {
  const call = await getDb().pendingCall.findFirst({ where: { id, portalId } });
  if (!call) throw new AppError(404, "not_found", "No such pending call");
  await rerun(id, runnerFor);
  return getDb().pendingCall.findUniqueOrThrow({ where: { id } });
}
