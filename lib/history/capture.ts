import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { diffRecords, type FieldMetaLite } from "@/lib/history/diff";
import { getFieldMeta } from "@/lib/history/fields";
import { resolveUserNames } from "@/lib/history/users";

// Live capture: a CRM event carries only the record's ID; we fetch the record, diff it against the last snapshot and
// store each changed field with who (MODIFY_BY_ID) and when (DATE_MODIFY). The snapshot row is locked while diffing,
// and an older fetched state never overwrites a newer snapshot, so concurrent workers cannot interleave.
export type CrmEntityType = "deal" | "contact" | "company" | "lead";

export interface CrmEventInput {
  portalId: string;
  entityType: CrmEntityType;
  action: "add" | "update" | "delete";
  entityId: number;
  userId?: number;
  receivedAt: Date;
}

type CrmRecord = Record<string, unknown>;
const DELETED = "__record__";

async function applyRecord(portalId: string, entityType: string, record: CrmRecord, meta: Record<string, FieldMetaLite>, source: string): Promise<number> {
  const entityId = Number(record.ID);
  const modifiedAt = record.DATE_MODIFY ? new Date(String(record.DATE_MODIFY)) : new Date();
  const changedById = Number(record.MODIFY_BY_ID) || null;
  return getDb().$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ fields: CrmRecord; modifiedAt: Date | null }[]>`
      SELECT fields, "modifiedAt" FROM "CrmSnapshot" WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} FOR UPDATE`;
    const prev = rows[0];
    if (prev?.modifiedAt && prev.modifiedAt > modifiedAt) return 0; // a newer state is already the baseline
    const changes = prev ? diffRecords(meta, prev.fields, record) : [];
    if (changes.length) {
      await tx.fieldChange.createMany({ data: changes.map((c) => ({ portalId, entityType, entityId, field: c.field, oldValue: (c.oldValue ?? Prisma.JsonNull) as Prisma.InputJsonValue, newValue: (c.newValue ?? Prisma.JsonNull) as Prisma.InputJsonValue, changedById, changedAt: modifiedAt, source })) });
    }
    await tx.crmSnapshot.upsert({ where: { portalId_entityType_entityId: { portalId, entityType, entityId } }, create: { portalId, entityType, entityId, fields: record as Prisma.InputJsonValue, modifiedAt }, update: { fields: record as Prisma.InputJsonValue, modifiedAt } });
    return changes.length;
  });
}

/** Fetches the records (≤ 50 per batch request) and captures their changes. */
export async function captureRecords(portalId: string, entityType: CrmEntityType, ids: number[], client?: BitrixClient): Promise<number> {
  const c = client ?? (await bitrixFor(portalId));
  const meta = await getFieldMeta(portalId, entityType, c);
  const res = await c.batch(Object.fromEntries(ids.map((id) => [`r${id}`, [`crm.${entityType}.get`, { id }]])), { lane: "background", idempotent: true });
  let changed = 0;
  const modifiers: number[] = [];
  for (const id of ids) {
    const record = res.result[`r${id}`] as CrmRecord | undefined;
    if (!record) continue; // deleted meanwhile: its delete event records that
    changed += await applyRecord(portalId, entityType, record, meta, "event");
    modifiers.push(Number(record.MODIFY_BY_ID));
  }
  await resolveUserNames(portalId, modifiers, c);
  return changed;
}

export async function onCrmEvent(input: CrmEventInput): Promise<void> {
  const { portalId, entityType, entityId } = input;
  if (input.action !== "delete") {
    await captureRecords(portalId, entityType, [entityId]);
    return;
  }
  const snapshot = await getDb().crmSnapshot.findUnique({ where: { portalId_entityType_entityId: { portalId, entityType, entityId } } });
  await getDb().$transaction([
    getDb().fieldChange.create({ data: { portalId, entityType, entityId, field: DELETED, oldValue: snapshot ? "exists" : Prisma.JsonNull, newValue: "deleted", changedById: input.userId ?? null, changedAt: input.receivedAt } }),
    getDb().crmSnapshot.deleteMany({ where: { portalId, entityType, entityId } }),
  ]);
}
