import "server-only";
import { sha256Hex, safeEqual } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { recordAuthFailure } from "@/lib/metrics/auth-failures";
import { bumpGlobal } from "@/lib/metrics/bump";

// application_token check on every event (docs/bitrix24.md#application-token): look up by member_id, compare in
// constant time, refuse (and count) unknown portals and mismatches. Fails closed: a portal without a stored token
// accepts nothing. Both refusals read the same: a different answer for a customer's member_id would tell a prober who
// is a customer.
const REFUSED = "Unknown portal or application_token does not match";

export async function verifyApplicationToken(memberId: unknown, token: unknown, route: string) {
  if (typeof memberId !== "string" || typeof token !== "string" || !memberId || !token) {
    bumpGlobal("auth_failures_malformed");
    throw new AppError(401, "unauthorized", "auth[member_id] and auth[application_token] are required");
  }
  // Raw SQL on this hot path (every event): Prisma 6's client engine compiles each model query on the main thread,
  // ≈ 1.5 ms of CPU against ≈ 0.5 ms for the same lookup as SQL (bench: ingestion).
  const [portal] = await getDb().$queryRaw<
    { id: string; memberId: string; status: string; applicationTokenHash: string | null }[]
  >`
    SELECT id, "memberId", status::text AS status, "applicationTokenHash" FROM "Portal" WHERE "memberId" = ${memberId}`;
  if (!portal) {
    bumpGlobal("auth_failures_unknown_portal");
    throw new AppError(401, "unauthorized", REFUSED);
  }
  if (!portal.applicationTokenHash || !safeEqual(portal.applicationTokenHash, sha256Hex(token))) {
    const reason = portal.applicationTokenHash ? "application_token_mismatch" : "no_stored_token";
    await recordAuthFailure(portal.id, reason, route);
    throw new AppError(401, "unauthorized", REFUSED);
  }
  const { applicationTokenHash: _hash, ...rest } = portal;
  return rest;
}
