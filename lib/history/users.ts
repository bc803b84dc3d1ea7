import "server-only";
import type { BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";

// MODIFY_BY_ID → a name, cached per portal (one user.get for all unknown ids).
export async function resolveUserNames(portalId: string, ids: number[], client: BitrixClient): Promise<void> {
  const wanted = [...new Set(ids.filter((id) => Number.isInteger(id) && id > 0))];
  if (!wanted.length) return;
  const known = new Set((await getDb().userNameCache.findMany({ where: { portalId, userId: { in: wanted } }, select: { userId: true } })).map((u) => u.userId));
  const missing = wanted.filter((id) => !known.has(id));
  if (!missing.length) return;
  const res = await client.call<{ ID: string; NAME?: string; LAST_NAME?: string }[]>("user.get", { ID: missing }, { lane: "background" });
  const rows = (Array.isArray(res.result) ? res.result : []).map((u) => ({ portalId, userId: Number(u.ID), name: [u.NAME, u.LAST_NAME].filter(Boolean).join(" ") || `#${u.ID}` }));
  if (rows.length) await getDb().userNameCache.createMany({ data: rows, skipDuplicates: true });
}
