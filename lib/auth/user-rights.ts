import "server-only";
import {
  callWithToken,
  isAccessDenied,
  isBitrixError,
  isNotFound,
  type BitrixCaller,
  type CallResult,
} from "@/lib/bitrix";
import { acquireSlot, blockPortal } from "@/lib/bitrix/limiter";
import { limitBackoffMs, limitPolicy } from "@/lib/bitrix/limits";
import { sha256Hex } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { SIGN_IN_STATUSES } from "@/lib/portals/portals";
import { AppError } from "@/lib/http-errors";
import type { PortalSession } from "@/lib/auth/session";
import { entityTypeIdOf } from "@/lib/history/entity-types";

// A record's history is as private as the record (docs/security.md, "Rights"). Bitrix24 is the only judge of a
// user's rights, so we ask it with the user's own token (the frame's AUTH_ID carried in the encrypted session):
// - reading a record's history needs the portal to let the user read the record (`crm.<entity>.get` answers
//   "Access denied." otherwise — docs/bitrix24.md, "Errors");
// - every write on a user's behalf (export to the record, revert) is made with their token, so their CRM role applies;
// - admin actions re-check `user.admin`.
// Answers are kept a short while per process (paging through a tab must not cost a portal call per page).

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, { at: number; value: boolean | AppError }>();

function remember(key: string, value: boolean | AppError) {
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, { at: Date.now(), value });
}

function recall(key: string): boolean | AppError | undefined {
  const hit = cache.get(key);
  if (!hit || Date.now() - hit.at > TTL_MS) return undefined;
  return hit.value;
}

/** Forget cached answers (tests, and after a write that may change what the user may see). */
export function forgetUserRights() {
  cache.clear();
}

const keyOf = (s: PortalSession, what: string) =>
  `${s.portalId}|${s.userId}|${sha256Hex(s.userToken).slice(0, 16)}|${what}`;

/**
 * One REST call with the session user's own token, to the portal's stored endpoint (never one from a request), drawn
 * from the portal's shared rate budget (interactive lane). An expired token is a 401: the page renews its session
 * through B24Frame and retries.
 */
export async function callAsUser<T>(
  s: PortalSession,
  method: string,
  params: Record<string, unknown> = {},
  opts: { authConnector?: string } = {},
): Promise<CallResult<T>> {
  const portal = await getDb().portal.findUnique({
    where: { id: s.portalId },
    select: { clientEndpoint: true, status: true },
  });
  if (!portal || !SIGN_IN_STATUSES.has(portal.status))
    throw new AppError(401, "unauthorized", "The app is not installed on this portal");
  try {
    return await callLimited<T>(s.portalId, portal.clientEndpoint, s.userToken, method, params, opts);
  } catch (e) {
    if (isBitrixError(e, "auth"))
      throw new AppError(401, "unauthorized", "Your Bitrix24 sign-in expired: reopen the app");
    throw e;
  }
}

/**
 * A call with a token we do not store (a user's), to an endpoint from our database, drawn from the portal's shared
 * budget like the app's own calls (lib/bitrix/limiter.ts); QUERY_LIMIT_EXCEEDED is waited out with them.
 */
export async function callLimited<T>(
  portalId: string,
  clientEndpoint: string,
  token: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { authConnector?: string } = {},
): Promise<CallResult<T>> {
  for (let attempt = 0; ; attempt++) {
    await acquireSlot(portalId, "interactive");
    try {
      return await callWithToken<T>(clientEndpoint, token, method, params, { lane: "interactive", ...opts });
    } catch (e) {
      if (isBitrixError(e) && e.code === "QUERY_LIMIT_EXCEEDED" && attempt < limitPolicy.maxRetries) {
        await blockPortal(portalId, new Date(Date.now() + limitBackoffMs(attempt)));
        continue;
      }
      throw e;
    }
  }
}

/** A caller (lib/bitrix/upload.ts and the like) that writes with the user's own token. */
export async function userCaller(s: PortalSession): Promise<BitrixCaller> {
  const portal = await getDb().portal.findUniqueOrThrow({
    where: { id: s.portalId },
    select: { id: true, memberId: true, clientEndpoint: true, serverEndpoint: true },
  });
  return {
    portal,
    call: (method, params, opts) => callAsUser(s, method, params, { authConnector: opts?.authConnector }),
  };
}

/**
 * The call that asks Bitrix24 whether the user may read a record: quotes, invoices, smart processes through
 * crm.item.get (same "Access denied" / NOT_FOUND answers, crm-item-get.md), the legacy four through crm.<entity>.get.
 */
export function recordReadCall(entity: string, id: number): [method: string, params: Record<string, unknown>] {
  // Every type: crm.item.get {entityTypeId, id} ("Access denied" / NOT_FOUND, crm-item-get.md), the legacy four
  // included (entityTypeId 1–4, crm/universal/object-fields.md#by-object).
  return ["crm.item.get", { entityTypeId: entityTypeIdOf(entity), id }];
}

/** The answer of a record read: true, or the 403 / 404 it means; anything else is not an answer about rights. */
function readAnswer(e: unknown, entity: string, id: number): AppError | null {
  if (isAccessDenied(e)) return new AppError(403, "forbidden", "Bitrix24 does not let you see this record");
  if (isNotFound(e)) return new AppError(404, "not_found", `No ${entity} #${id} on this portal`);
  return null;
}

/**
 * What the sign-in learnt about the session's own record, asked in the same batch as the token check
 * (lib/auth/frame-auth.ts): kept like any other answer, so the page that follows the sign-in needs no second round trip.
 * `error` is the read command's error; an error that says nothing about rights is not kept.
 */
export function rememberRecordRead(s: PortalSession, entity: string, id: number, error: unknown | null) {
  const answer = error === null ? true : readAnswer(error, entity, id);
  if (answer !== null) remember(keyOf(s, `read:${entity}:${id}`), answer);
}

/**
 * Throws 403 unless Bitrix24 lets this user read the record (404 when it does not exist). Admins read everything.
 * A session the portal opened for one record (a tab, a widget) serves that record only.
 */
export async function requireRecordAccess(s: PortalSession, entity: string, id: number): Promise<void> {
  if (s.isAdmin) return;
  if (s.record && (s.record.entity !== entity || s.record.id !== id)) {
    throw new AppError(
      403,
      "forbidden",
      "This session was opened for another record: open that record's tab in Bitrix24",
    );
  }
  const key = keyOf(s, `read:${entity}:${id}`);
  let answer = recall(key);
  if (answer === undefined) {
    try {
      await callAsUser(s, ...recordReadCall(entity, id));
      answer = true;
    } catch (e) {
      const refused = readAnswer(e, entity, id);
      if (!refused) throw e;
      answer = refused;
    }
    remember(key, answer);
  }
  if (answer !== true) throw answer;
}

/** `user.admin` with the user's own token; `fresh` skips the short cache (admin actions). */
export async function isStillAdmin(s: PortalSession, fresh: boolean): Promise<boolean> {
  const key = keyOf(s, "admin");
  const cached = fresh ? undefined : recall(key);
  if (typeof cached === "boolean") return cached;
  const admin = (await callAsUser<boolean>(s, "user.admin")).result === true;
  remember(key, admin);
  return admin;
}
