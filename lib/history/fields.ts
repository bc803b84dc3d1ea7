import "server-only";
import type { BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import type { FieldMetaLite } from "@/lib/history/diff";
import { portalLacks } from "@/lib/lifecycle/probe";
import { entityTypeIdOf, isItemType, type EntityKey, type LegacyEntityType } from "@/lib/history/entity-types";
import { readItemFields } from "@/lib/history/items";
import { legacyFieldMeta, type LegacyFieldMeta } from "@/lib/history/legacy-items";
import { multifieldLabels } from "@/lib/i18n";

// crm.item.fields cached per portal for an hour: types drive the diff, labels (UF_* included) the display; the
// legacy four keyed by their legacy keys, with the item name of each (lib/history/legacy-items.ts).
// Directory fields come without their values' names: a stage, status or source is `type: crm_status` with a
// `statusType` and no `items` (b24restdocs crm/deals/crm-deal-fields.md), its names are crm.status.list rows of that
// ENTITY_ID (crm/status/crm-status-list.md; a deal's stages are DEAL_STAGE for funnel 0 and DEAL_STAGE_<n> for
// funnel n, ids `C<n>:WON` — tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md), a funnel
// (`crm_category`) is a crm.category.list entry (crm/universal/category/crm-category-list.md). They are read with the
// fields and cached with them as `items`, the shape enumerations already have, in the portal's language.
const TTL_MS = 3600_000;

export interface ValueItem {
  ID: string;
  VALUE: string;
}
type FieldWithItems = FieldMetaLite & { statusType?: string; items?: ValueItem[] };
interface B24Status {
  ENTITY_ID: string;
  STATUS_ID: string;
  NAME: string;
}
interface B24Category {
  id: number | string;
  name: string;
}

export async function getFieldMeta(
  portalId: string,
  entityType: string,
  client: BitrixClient,
): Promise<Record<string, FieldMetaLite>> {
  const cached = await getDb().crmFieldMeta.findUnique({ where: { portalId_entityType: { portalId, entityType } } });
  const fields = cached?.fields as unknown as Record<string, LegacyFieldMeta> | undefined;
  // A legacy type's fields cached from crm.<entity>.fields (before decision 015) name no item field: read again.
  const current = fields && (isItemType(entityType) || Object.values(fields).some((f) => f.itemName));
  if (cached && current && Date.now() - cached.fetchedAt.getTime() < TTL_MS) return fields!;
  return refreshFieldMeta(portalId, entityType, client);
}

/** Reads the fields and their directories again (the TTL ran out, or a change shows a code the cache lacks). */
export async function refreshFieldMeta(
  portalId: string,
  entityType: string,
  client: BitrixClient,
): Promise<Record<string, FieldMetaLite>> {
  // Every type: crm.item.fields; the legacy four keyed by their legacy UPPER_CASE keys (lib/history/legacy-items.ts).
  const items = (await readItemFields(client, entityType as EntityKey)) as Record<string, FieldWithItems>;
  const raw = isItemType(entityType)
    ? items
    : (legacyFieldMeta(entityType as LegacyEntityType, items, await labelsOfMultifields(portalId)) as Record<
        string,
        FieldWithItems
      >);
  const fields = await withDirectoryItems(raw, entityType, client, portalId);
  const data = fields as object;
  await getDb().crmFieldMeta.upsert({
    where: { portalId_entityType: { portalId, entityType } },
    create: { portalId, entityType, fields: data },
    update: { fields: data, fetchedAt: new Date() },
  });
  return fields;
}

/** PHONE, EMAIL, WEB, IM, LINK in the portal's language: crm.item.fields labels only their common `fm`. */
async function labelsOfMultifields(portalId: string): Promise<Record<string, string>> {
  const portal = await getDb().portal.findUnique({ where: { id: portalId }, select: { languageId: true } });
  return multifieldLabels(portal?.languageId);
}

/**
 * A statusType's rows: DEAL_STAGE stands for every funnel's stages, their ids are unique across funnels. An item
 * type's stage field names its first funnel's directory (DYNAMIC_128_STAGE_3, SMART_INVOICE_STAGE_2): every funnel of
 * that type is meant, stage ids (DT128_4:NEW) being unique across them too.
 */
const ofType = (statusType: string) => {
  const family = statusType === "DEAL_STAGE" ? "DEAL_STAGE" : /^(.+_STAGE)_\d+$/.exec(statusType)?.[1];
  return (entityId: string) =>
    entityId === statusType ||
    (family !== undefined &&
      (entityId === family || (entityId.startsWith(`${family}_`) && /^\d+$/.test(entityId.slice(family.length + 1)))));
};

async function withDirectoryItems(
  fields: Record<string, FieldWithItems>,
  entityType: string,
  client: BitrixClient,
  portalId: string,
) {
  const entries = Object.entries(fields);
  const needsStatuses = entries.some(([, f]) => f.type === "crm_status" && f.statusType);
  // A box whose crm module predates crm.category.list (the probe found it missing) is not asked: ids are shown.
  // (quotes have no funnels: crm.category.list answers ENTITY_TYPE_NOT_SUPPORTED for them)
  const entityTypeId = entityType === "quote" ? undefined : entityTypeIdOf(entityType);
  const needsCategories =
    entries.some(([, f]) => f.type === "crm_category") &&
    entityTypeId !== undefined &&
    !(await portalLacks(portalId, "crm.category.list"));
  if (!needsStatuses && !needsCategories) return fields;
  const statuses: B24Status[] = [];
  // One list for every directory; the whole list comes in one answer, `next` is followed should a portal page it.
  if (needsStatuses) {
    const pages = client.listPaged<B24Status>("crm.status.list", { order: { SORT: "ASC" } }, { lane: "background" });
    for await (const page of pages) statuses.push(...page);
  }
  const categoryList = needsCategories
    ? await client.call<{ categories?: B24Category[] }>("crm.category.list", { entityTypeId }, { lane: "background" })
    : null;
  const categories = categoryList?.result.categories ?? [];
  return Object.fromEntries(
    entries.map(([code, f]) => {
      if (f.type === "crm_status" && f.statusType) {
        const mine = ofType(f.statusType);
        return [
          code,
          { ...f, items: statuses.filter((s) => mine(s.ENTITY_ID)).map((s) => ({ ID: s.STATUS_ID, VALUE: s.NAME })) },
        ];
      }
      if (f.type === "crm_category" && categoryList) {
        return [code, { ...f, items: categories.map((c) => ({ ID: String(c.id), VALUE: c.name })) }];
      }
      return [code, f];
    }),
  );
}
