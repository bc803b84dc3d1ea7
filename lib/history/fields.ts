import "server-only";
import type { BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import type { FieldMetaLite } from "@/lib/history/diff";

// crm.<entity>.fields cached per portal for an hour: types drive the diff, labels (UF_* included) the display.
const TTL_MS = 3600_000;

export async function getFieldMeta(portalId: string, entityType: string, client: BitrixClient): Promise<Record<string, FieldMetaLite>> {
  const cached = await getDb().crmFieldMeta.findUnique({ where: { portalId_entityType: { portalId, entityType } } });
  if (cached && Date.now() - cached.fetchedAt.getTime() < TTL_MS) return cached.fields as unknown as Record<string, FieldMetaLite>;
  const res = await client.call<Record<string, FieldMetaLite>>(`crm.${entityType}.fields`, {}, { lane: "background" });
  const fields = res.result as object;
  await getDb().crmFieldMeta.upsert({ where: { portalId_entityType: { portalId, entityType } }, create: { portalId, entityType, fields }, update: { fields, fetchedAt: new Date() } });
  return res.result;
}
