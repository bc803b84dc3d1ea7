import "server-only";
import { Prisma } from "@prisma/client";
import type { PortalSession } from "@/lib/auth/session";
import { callAsUser, requireRecordAccess, userCaller } from "@/lib/auth/user-rights";
import { bitrixFor, isAccessDenied } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/http-errors";
import { callOrDefer, type RunnerFor } from "@/lib/bitrix/confirm";
import { AUTH_CONNECTOR } from "@/lib/bitrix/contract";
import {
  multiItems,
  multiKey,
  normalise,
  PRODUCTS_FIELD,
  sameValue,
  type FieldMetaLite,
  type MultiItem,
} from "@/lib/history/diff";
import { valueText } from "@/lib/history/present";
import { dict } from "@/lib/i18n";
import { getFieldMeta } from "@/lib/history/fields";
import { entityTypeIdOf, isItemType, type EntityKey } from "@/lib/history/entity-types";
import { recordAdapter } from "@/lib/history/items";
import type { LegacyFieldMeta } from "@/lib/history/legacy-items";
import { RECORD_FIELD } from "@/lib/history/snapshots";
import { resolveUserNames } from "@/lib/history/users";
import { attachLeadAddresses, isLeadAddressKey, LEAD_ADDRESS_KEYS } from "@/lib/history/lead-address";

// Revert a change: write the old value back. With rest_auth_connector the write carries our connector, so Bitrix24
// raises no offline event for it; either way the snapshot takes the reverted value first, so an echo (portals
// without the feature) diffs to nothing — no loop — and the revert itself is recorded once, as source "revert".
// Methods that need an admin's confirmation go through the pending-call flow (callOrDefer), and on confirmation the
// whole revert runs again (revertRunner).

/**
 * A multiple field put back to `target` from what the record holds now, in Bitrix24's update form (b24restdocs
 * crm/contacts/crm-contact-update.md "Working with Multiple Fields"): an item named by ID is overwritten, `{ID,
 * VALUE: ""}` deletes it, an item without ID is added, and items not named stay. Items still there (by ID, else by
 * type and value) are kept or overwritten; a target item gone since is added anew (its old ID no longer exists).
 */
function multifieldWire(target: unknown, current: unknown): Record<string, string>[] {
  const have = multiItems(current).filter((i) => i.ID !== undefined);
  const out: Record<string, string>[] = [];
  const unmatched: MultiItem[] = [];
  for (const want of multiItems(target)) {
    const i = have.findIndex((h) => want.ID !== undefined && h.ID === want.ID);
    if (i < 0) unmatched.push(want);
    else if (multiKey(have.splice(i, 1)[0]!) !== multiKey(want)) {
      out.push({ ID: want.ID!, VALUE_TYPE: want.VALUE_TYPE, VALUE: want.VALUE });
    }
  }
  for (const want of unmatched) {
    const i = have.findIndex((h) => multiKey(h) === multiKey(want));
    if (i >= 0) have.splice(i, 1);
    else out.push({ VALUE_TYPE: want.VALUE_TYPE, VALUE: want.VALUE });
  }
  return [...out, ...have.map((h) => ({ ID: h.ID!, VALUE: "" }))];
}

/** Stored values are normalised (lib/history/diff.ts); Bitrix24 wants its own spelling back. */
export function toWireValue(meta: FieldMetaLite | undefined, v: unknown, current?: unknown): unknown {
  if (meta?.type === "crm_multifield") return multifieldWire(v, current);
  if (v === null || v === undefined) return "";
  if (meta?.type === "boolean") return v === true ? "Y" : v === false ? "N" : v;
  if (Array.isArray(v) || typeof v === "object") return v;
  return String(v);
}

/** Sets one field of a record's snapshot; returns how to put it back (only if nobody changed it meanwhile). */
async function setSnapshotField(
  portalId: string,
  entityType: string,
  entityId: number,
  field: string,
  value: unknown,
): Promise<() => Promise<void>> {
  const db = getDb();
  const key = { portalId_entityType_entityId: { portalId, entityType, entityId } };
  const lockRow = (tx: Prisma.TransactionClient) => tx.$queryRaw<{ fields: Record<string, unknown> }[]>`
    SELECT fields FROM "CrmSnapshot" WHERE "portalId" = ${portalId} AND "entityType" = ${entityType} AND "entityId" = ${entityId} FOR UPDATE`;
  const before = await db.$transaction(async (tx) => {
    const [row] = await lockRow(tx);
    if (row)
      await tx.crmSnapshot.update({
        where: key,
        data: { fields: { ...row.fields, [field]: value } as Prisma.InputJsonValue },
      });
    return row ? { had: field in row.fields, value: row.fields[field] } : null;
  });
  return async () => {
    if (!before) return;
    await db.$transaction(async (tx) => {
      const [row] = await lockRow(tx);
      if (!row || JSON.stringify(row.fields[field]) !== JSON.stringify(value)) return;
      const fields = { ...row.fields, [field]: before.value };
      if (!before.had) delete fields[field];
      await tx.crmSnapshot.update({ where: key, data: { fields: fields as Prisma.InputJsonValue } });
    });
  };
}

/** Who asks for a revert: an admin (written with the app's token, as today) or a user (written with their own). */
export interface RevertActor {
  userId: number;
  /** the user's session: their own token writes, so Bitrix24 applies their role; absent on a confirmed re-run */
  session?: PortalSession;
}

export interface RevertOptions {
  alreadyPending?: boolean;
  /** write even though the field no longer holds the change's new value */
  overwrite?: boolean;
}

/** The record as Bitrix24 has it now, read with the writer's rights, in the shape its snapshot keeps. */
async function readCurrent(
  portalId: string,
  entityType: string,
  entityId: number,
  field: string,
  session: PortalSession | undefined,
  meta: Record<string, FieldMetaLite>,
) {
  const params = {
    entityTypeId: entityTypeIdOf(entityType),
    id: entityId,
    ...(isItemType(entityType) ? {} : { useOriginalUfNames: "Y" }),
  };
  const res =
    session && !session.isAdmin
      ? await callAsUser<{ item?: Record<string, unknown> }>(session, "crm.item.get", params)
      : await (
          await bitrixFor(portalId)
        ).call<{ item?: Record<string, unknown> }>("crm.item.get", params, { lane: "interactive" });
  // crm.item.get answers {item} (crm-item-get.md): the item types' camelCase names are their snapshot's; the legacy
  // four's fields go back to their legacy keys, `fm` to PHONE/EMAIL/… (lib/history/legacy-items.ts)
  const item = res.result?.item ?? {};
  if (isItemType(entityType)) return item;
  const record = recordAdapter(entityType as EntityKey, meta)(item);
  // a lead's address is not an item field: read from crm.address.list, and only for an address change (the method
  // wants read rights on contacts and companies too, crm-address-list.md — not asked of a user for other fields)
  if (isLeadAddressKey(entityType, field)) {
    const caller = session && !session.isAdmin ? await userCaller(session) : await bitrixFor(portalId);
    await attachLeadAddresses(caller, entityType, [record], "interactive");
  }
  return record;
}

/**
 * The write of one field: crm.item.update {entityTypeId, id, fields} under the field's item name (crm-item-update.md;
 * a legacy type's key is translated back, custom fields go as UF_CRM_… with useOriginalUfNames "Y"). A multifield
 * of a lead, contact or company goes through crm.<entity>.update: crm.item.update only adds multifield values and
 * "you cannot modify or delete a value through crm.item.*" (b24restdocs crm/universal/object-fields.md#fm). So does a
 * lead's address: crm.item.* has no such field (lib/history/lead-address.ts), crm.lead.update writes its ADDRESS_*
 * with "the complete set of address fields" it recommends (crm/leads/crm-lead-update.md): the others as they are now.
 */
function updateCall(
  entityType: string,
  id: number,
  field: string,
  meta: FieldMetaLite | undefined,
  value: unknown,
  current: Record<string, unknown>,
) {
  if (!isItemType(entityType) && meta?.type === "crm_multifield") {
    return { method: `crm.${entityType}.update`, params: { id, fields: { [field]: value } } };
  }
  if (isLeadAddressKey(entityType, field)) {
    const address = Object.fromEntries(LEAD_ADDRESS_KEYS.map((k) => [k, (k === field ? value : current[k]) ?? ""]));
    return { method: "crm.lead.update", params: { id, fields: address } };
  }
  const name = isItemType(entityType) ? field : ((meta as LegacyFieldMeta | undefined)?.itemName ?? field);
  const params: Record<string, unknown> = { entityTypeId: entityTypeIdOf(entityType), id, fields: { [name]: value } };
  if (!isItemType(entityType)) params.useOriginalUfNames = "Y";
  return { method: "crm.item.update", params };
}

export async function revertChange(portalId: string, changeId: bigint, actor: RevertActor, opts: RevertOptions = {}) {
  const db = getDb();
  const { userId, session } = actor;
  const change = await db.fieldChange.findFirst({ where: { id: changeId, portalId } });
  if (!change) throw new AppError(404, "not_found", "No such change on this portal");
  if (session) await requireRecordAccess(session, change.entityType, change.entityId);
  if (change.field === RECORD_FIELD)
    throw new AppError(400, "not_revertible", "A deleted record cannot be restored from its history");
  // Product rows are written through crm.item.productrow.*, not the record's update (lib/history/product-rows.ts).
  if (change.field === PRODUCTS_FIELD) throw new AppError(400, "not_revertible", "Product rows are not reverted");
  const client = await bitrixFor(portalId);
  const meta = await getFieldMeta(portalId, change.entityType, client);
  const fieldMeta = meta[change.field];
  if (fieldMeta?.isReadOnly) throw new AppError(400, "not_revertible", `${change.field} is read-only`);
  // An immutable field ("set on creation only", object-fields.md#access) is ignored by an update.
  if (fieldMeta?.isImmutable)
    throw new AppError(400, "not_revertible", `${change.field} cannot be changed by an update`);
  // Only a field that still holds what this change wrote is put back; anything else would silently undo a later edit.
  const currentRecord = await readCurrent(portalId, change.entityType, change.entityId, change.field, session, meta);
  const currentRaw = currentRecord[change.field];
  const current = normalise(fieldMeta, currentRaw);
  if (!opts.overwrite && !sameValue(fieldMeta, current, change.newValue)) {
    const shown = valueText(current);
    throw new AppError(409, "conflict", `${dict(session?.lang ?? "en").revertConflict} ${shown}`, {
      currentValue: current ?? null,
      currentText: shown,
    });
  }
  const value = toWireValue(fieldMeta, change.oldValue, currentRaw);
  const features = ((await db.capabilityProfile.findUnique({ where: { portalId } }))?.features ?? {}) as Record<
    string,
    string
  >;
  const connector = features.rest_auth_connector === "Y" ? AUTH_CONNECTOR : undefined;
  // The snapshot takes the value before the write, so an echo event (portals without rest_auth_connector) diffs to
  // nothing; a write that fails or waits for an admin's confirmation puts the snapshot back (revertRunner runs the
  // whole revert again once it is confirmed). No REST call inside a transaction: PGlite has one session.
  // a multiple field's write names only the items it touches: the snapshot takes the whole list it leaves
  const expected = fieldMeta?.type === "crm_multifield" ? change.oldValue : value;
  const restore = await setSnapshotField(portalId, change.entityType, change.entityId, change.field, expected);
  const { method, params } = updateCall(
    change.entityType,
    change.entityId,
    change.field,
    fieldMeta,
    value,
    currentRecord,
  );
  let outcome: Awaited<ReturnType<typeof callOrDefer>>;
  try {
    // A user's revert is written with their own token: Bitrix24 refuses what their role does not allow.
    outcome =
      session && !session.isAdmin
        ? { status: "done", result: await callAsUser(session, method, params, { authConnector: connector }) }
        : await callOrDefer(portalId, method, params, `revert:${changeId}:${userId}`, {
            authConnector: connector,
            alreadyPending: opts.alreadyPending,
          });
  } catch (e) {
    await restore();
    if (isAccessDenied(e))
      throw new AppError(403, "forbidden", "Bitrix24 does not let you edit this field of this record");
    throw e;
  }
  if (outcome.status === "pending") {
    await restore();
    return { status: "pending" as const, pendingId: outcome.pendingId };
  }
  await db.fieldChange.create({
    data: {
      portalId,
      entityType: change.entityType,
      entityId: change.entityId,
      field: change.field,
      oldValue: (change.newValue ?? Prisma.JsonNull) as Prisma.InputJsonValue,
      newValue: (change.oldValue ?? Prisma.JsonNull) as Prisma.InputJsonValue,
      changedById: userId,
      changedAt: new Date(),
      source: "revert",
    },
  });
  await resolveUserNames(portalId, [userId], client);
  return { status: "done" as const };
}

/** A confirmed revert runs again as a whole (lock, write, snapshot, record), not as a bare repeat of its write. */
export const revertRunner: RunnerFor = (purpose) => {
  const m = /^revert:(\d+):(\d+)$/.exec(purpose ?? "");
  return m
    ? async (call) =>
        (await revertChange(call.portalId, BigInt(m[1]!), { userId: Number(m[2]) }, { alreadyPending: true })).status
    : undefined;
};
