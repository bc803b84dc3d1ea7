import "server-only";
import { Prisma } from "@prisma/client";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { callOrDefer } from "@/lib/lifecycle/confirm";
import { AUTH_CONNECTOR } from "@/lib/lifecycle/registry";
import type { FieldMetaLite } from "@/lib/history/diff";
import { getFieldMeta } from "@/lib/history/fields";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { resolveUserNames } from "@/lib/history/users";

// Revert a change: write the old value back. With rest_auth_connector the write carries our connector, so Bitrix24
// raises no offline event for it; either way the snapshot takes the reverted value first, so an echo (portals
// without the feature) diffs to nothing — no loop — and the revert itself is recorded once, as source "revert".
// Methods that need an admin's confirmation go through the pending-call flow (callOrDefer).

/** Stored values are normalised (lib/history/diff.ts); Bitrix24 wants its own spelling back. */
export function toWireValue(meta: FieldMetaLite | undefined, v: unknown): unknown {
  if (v === null || v === undefined) return "";
  if (meta?.type === "boolean") return v === true ? "Y" : v === false ? "N" : v;
  if (Array.isArray(v) || typeof v === "object") return v;
  return String(v);
}

export async function revertChange(portalId: string, changeId: bigint, userId: number) {
  const db = getDb();
  const change = await db.fieldChange.findFirst({ where: { id: changeId, portalId } });
  if (!change) throw new AppError(404, "not_found", "No such change on this portal");
  if (change.field === RECORD_FIELD) throw new AppError(400, "not_revertible", "A deleted record cannot be restored from its history");
  const client = await bitrixFor(portalId);
  const meta = await getFieldMeta(portalId, change.entityType, client);
  if (meta[change.field]?.isReadOnly) throw new AppError(400, "not_revertible", `${change.field} is read-only`);
  const value = toWireValue(meta[change.field], change.oldValue);
  const features = ((await db.capabilityProfile.findUnique({ where: { portalId } }))?.features ?? {}) as Record<string, string>;
  const connector = features.rest_auth_connector === "Y" ? AUTH_CONNECTOR : undefined;
  await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ fields: Record<string, unknown> }[]>`
      SELECT fields FROM "CrmSnapshot" WHERE "portalId" = ${portalId} AND "entityType" = ${change.entityType} AND "entityId" = ${change.entityId} FOR UPDATE`;
    if (rows[0]) await tx.crmSnapshot.update({ where: { portalId_entityType_entityId: { portalId, entityType: change.entityType, entityId: change.entityId } }, data: { fields: { ...rows[0].fields, [change.field]: value } as Prisma.InputJsonValue } });
  });
  const outcome = await callOrDefer(portalId, `crm.${change.entityType}.update`, { id: change.entityId, fields: { [change.field]: value } }, `revert:${changeId}`, { authConnector: connector });
  if (outcome.status === "pending") return { status: "pending" as const, pendingId: outcome.pendingId };
  await db.fieldChange.create({ data: { portalId, entityType: change.entityType, entityId: change.entityId, field: change.field, oldValue: (change.newValue ?? Prisma.JsonNull) as Prisma.InputJsonValue,
    newValue: (change.oldValue ?? Prisma.JsonNull) as Prisma.InputJsonValue, changedById: userId, changedAt: new Date(), source: "revert" } });
  await resolveUserNames(portalId, [userId], client);
  return { status: "done" as const };
}
