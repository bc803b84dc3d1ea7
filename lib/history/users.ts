import "server-only";
import { BitrixError, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";

// MODIFY_BY_ID → a name, cached per portal. user.get answers at most 50 users a call (user-get.md: "The results page
// size is always static: 50 records"), so the unknown ids go 50 to an ID filter: one call for up to 50, one batch
// request beyond. No ACTIVE filter: dismissed users, authors of older changes, are returned only without it
// (`ACTIVE: true` "excludes terminated users"). With the `user_brief` scope there is no EMAIL — names only.
const USERS_PER_CALL = 50;
type B24User = { ID: string; NAME?: string; LAST_NAME?: string };

async function fetchUsers(client: BitrixClient, ids: number[]): Promise<B24User[]> {
  if (ids.length <= USERS_PER_CALL) {
    const res = await client.call<B24User[]>("user.get", { ID: ids }, { lane: "background" });
    return Array.isArray(res.result) ? res.result : [];
  }
  const commands: Record<string, [string, Record<string, unknown>]> = {};
  for (let i = 0; i < ids.length; i += USERS_PER_CALL) {
    commands[`u${i / USERS_PER_CALL}`] = ["user.get", { FILTER: { ID: ids.slice(i, i + USERS_PER_CALL) } }];
  }
  const res = await client.batch(commands, { lane: "background", idempotent: true });
  const [failed] = Object.values(res.errors);
  if (failed) throw new BitrixError(failed.error, 0, failed.error_description, "user.get");
  return Object.values(res.result).flatMap((page) => (Array.isArray(page) ? (page as B24User[]) : []));
}

export async function resolveUserNames(portalId: string, ids: number[], client: BitrixClient): Promise<void> {
  const wanted = [...new Set(ids.filter((id) => Number.isInteger(id) && id > 0))];
  if (!wanted.length) return;
  const where = { portalId, userId: { in: wanted } };
  const cached = await getDb().userNameCache.findMany({ where, select: { userId: true } });
  const known = new Set(cached.map((u) => u.userId));
  const missing = wanted.filter((id) => !known.has(id));
  if (!missing.length) return;
  const users = await fetchUsers(client, missing);
  const name = (u: B24User) => [u.NAME, u.LAST_NAME].filter(Boolean).join(" ") || `#${u.ID}`;
  const rows = users.map((u) => ({ portalId, userId: Number(u.ID), name: name(u) }));
  if (rows.length) await getDb().userNameCache.createMany({ data: rows, skipDuplicates: true });
}
