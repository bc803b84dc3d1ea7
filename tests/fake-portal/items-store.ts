import type { StatusRow } from "./directories";
import { crmWrite, fireEvent } from "./core";
import { statusesOf } from "./methods-status";
import {
  LEGACY_BY_TYPE_ID,
  LEGACY_TYPE_IDS,
  QUOTE,
  SMART_INVOICE,
  newTypeFields,
  ownerTypeAbbr,
  seededCustomFields,
} from "./items-model";
import type { CrmRecord, CrmType, Entity, FakeBitrix, ItemStore, PortalState, StageHistoryRow } from "./types";
import { RecordMap } from "./id-index";

// Writes of quotes, new invoices and smart-process items, their events, smart-process types, and the stage history
// every stage move of the fake feeds (deals and leads included: core.ts crmWrite calls recordLegacyStageChange).

const FLAGS = [
  "isCategoriesEnabled",
  "isStagesEnabled",
  "isBeginCloseDatesEnabled",
  "isClientEnabled",
  "isUseInUserfieldEnabled",
  "isLinkWithProductsEnabled",
  "isMycompanyEnabled",
  "isDocumentsEnabled",
  "isSourceEnabled",
  "isObserversEnabled",
  "isRecyclebinEnabled",
  "isAutomationEnabled",
  "isBizProcEnabled",
  "isSetOpenPermissions",
  "isPaymentsEnabled",
  "isCountersEnabled",
];
const ON = new Set([
  "isCategoriesEnabled",
  "isStagesEnabled",
  "isBeginCloseDatesEnabled",
  "isClientEnabled",
  "isLinkWithProductsEnabled",
  "isAutomationEnabled",
]);

/** The stage directory (crm.status.list ENTITY_ID) of a type's funnel. */
export function stageEntityId(entityTypeId: number, categoryId: number | null): string {
  if (entityTypeId === QUOTE) return "QUOTE_STATUS";
  if (entityTypeId === SMART_INVOICE) return `SMART_INVOICE_STAGE_${categoryId}`;
  return `DYNAMIC_${entityTypeId}_STAGE_${categoryId}`;
}

type StageSeed = [suffix: string, en: string, ru: string, semantics?: "S" | "F"];
const SP_STAGES: StageSeed[] = [
  ["NEW", "New", "Новая"],
  ["PREPARATION", "In progress", "В работе"],
  ["SUCCESS", "Done", "Успех", "S"],
  ["FAIL", "Failed", "Провал", "F"],
];
// Smart invoices' default stages (N new, S sent, P paid, D declined) and quotes' QUOTE_STATUS (DRAFT...).
const INVOICE_STAGES: StageSeed[] = [
  ["N", "New", "Новый"],
  ["S", "Sent", "Отправлен клиенту"],
  ["P", "Paid", "Оплачен", "S"],
  ["D", "Declined", "Не оплачен", "F"],
];
const QUOTE_STAGES: StageSeed[] = [
  ["DRAFT", "New", "Новое"],
  ["SENT", "Sent to client", "Отправлено клиенту"],
  ["APPROVED", "Approved", "Одобрено", "S"],
  ["DECLAINED", "Declined", "Отклонено", "F"],
];

/** Status rows for one funnel of a type: stage ids `DT<type>_<funnel>:<code>` (SPAs, invoices), quote codes bare. */
function stageRows(entityTypeId: number, categoryId: number | null, firstId: number): StatusRow[] {
  const seeds = entityTypeId === QUOTE ? QUOTE_STAGES : entityTypeId === SMART_INVOICE ? INVOICE_STAGES : SP_STAGES;
  const prefix = entityTypeId === QUOTE ? "" : `DT${entityTypeId}_${categoryId}:`;
  return seeds.map(([code, en, ru, semantics], i) => ({
    ID: firstId + i * 2,
    ENTITY_ID: stageEntityId(entityTypeId, categoryId),
    STATUS_ID: `${prefix}${code}`,
    names: { en, ru },
    SORT: (i + 1) * 10,
    SYSTEM: semantics || i === 0 ? "Y" : "N",
    CATEGORY_ID: categoryId === null ? null : String(categoryId),
    SEMANTICS: semantics ?? null,
    COLOR: semantics === "S" ? "#7BD500" : semantics === "F" ? "#FF5752" : "#39A8EF",
  }));
}

function addStore(
  portal: PortalState,
  entityTypeId: number,
  categories: { id: number; name: string }[],
  custom: ItemStore["fields"] = {},
): ItemStore {
  const statuses = statusesOf(portal);
  for (const c of categories.length ? categories : [{ id: null as unknown as number }]) {
    statuses.push(...stageRows(entityTypeId, c.id ?? null, Math.max(0, ...statuses.map((s) => s.ID)) + 2));
  }
  const stageType = stageEntityId(entityTypeId, categories[0]?.id ?? null);
  const store: ItemStore = {
    fields: newTypeFields(entityTypeId, stageType, custom),
    records: new RecordMap(), // sorted ids cached between lists (id-index.ts)
    nextId: 1,
    categories,
  };
  portal.items.stores.set(entityTypeId, store);
  return store;
}

function newType(portal: PortalState, title: string, entityTypeId: number, at: string): CrmType {
  const flags = Object.fromEntries(FLAGS.map((f) => [f, ON.has(f) ? "Y" : "N"])) as CrmType["flags"];
  const type = {
    id: portal.items.nextTypeId++,
    title,
    code: "",
    entityTypeId,
    createdBy: 1,
    updatedBy: 1,
    createdTime: at,
    updatedTime: at,
    flags,
  };
  portal.items.types.push(type);
  return type;
}

/** A fresh portal's items: the "Projects" smart process (128), quotes, new invoices; product rows; stage history. */
export function seedItems(fake: FakeBitrix, portal: PortalState): void {
  const at = fake.clock.iso(Date.UTC(2025, 11, 1, 7));
  portal.items = {
    types: [],
    nextTypeId: 1,
    stores: new Map(),
    productRows: [],
    nextProductRowId: 1,
    stageHistory: [],
    nextStageHistoryId: 1,
  };
  const projects = newType(portal, "Projects", 128, at);
  addStore(
    portal,
    128,
    [
      { id: 3, name: "Projects" },
      { id: 4, name: "Internal" },
    ],
    seededCustomFields(128, projects.id),
  );
  addStore(portal, SMART_INVOICE, [{ id: 2, name: "Invoices" }], seededCustomFields(SMART_INVOICE, 0));
  addStore(portal, QUOTE, []);
  const names = ["Website relaunch", "Mobile app", "CRM rollout", "Data migration", "Office move", "Audit"];
  names.forEach((title, i) =>
    seedItem(fake, portal, 128, i, {
      TITLE: title,
      OPPORTUNITY: 10000 * (i + 1),
      CURRENCY_ID: "EUR",
      [`UF_CRM_${projects.id}_1700000000`]: `PRJ-${i + 1}`,
      [`UF_CRM_${projects.id}_BUDGET`]: 5000 + i * 250,
      [`UF_CRM_${projects.id}_PHASE2`]: i % 2 ? "Y" : "N",
    }),
  );
  for (let i = 0; i < 4; i++) {
    seedItem(fake, portal, SMART_INVOICE, i, {
      TITLE: `Invoice #${i + 1}`,
      OPPORTUNITY: 1200 + i * 100,
      CURRENCY_ID: "EUR",
      ACCOUNT_NUMBER: `INV-${2025_000 + i + 1}`,
      COMPANY_ID: i + 1,
      UF_CRM_SMART_INVOICE_1700000001: `PO-${100 + i}`,
    });
    seedItem(fake, portal, QUOTE, i, {
      TITLE: `Quote #${i + 1}`,
      OPPORTUNITY: 900 + i * 50,
      CURRENCY_ID: "EUR",
      DEAL_ID: i + 1,
      COMPANY_ID: i + 1,
      COMMENTS: "",
    });
  }
  seedLegacyHistory(portal);
  seedProductRows(portal);
}

/** A seeded item: created before the install (2025-12-01), some moved on one stage since (2025-12-15). */
function seedItem(fake: FakeBitrix, portal: PortalState, entityTypeId: number, i: number, values: CrmRecord) {
  const store = portal.items.stores.get(entityTypeId)!;
  const id = store.nextId++;
  const created = fake.clock.iso(Date.UTC(2025, 11, 1, 8, id));
  const categoryId = store.categories.length
    ? (store.categories[i % 4 === 3 ? 1 : 0]?.id ?? store.categories[0]!.id)
    : null;
  const stages = statusesOf(portal).filter((s) => s.ENTITY_ID === stageEntityId(entityTypeId, categoryId));
  const first = stages[0]!.STATUS_ID;
  const stage = stages[i % 3]!.STATUS_ID;
  const user = 1 + (i % 4);
  const rec: CrmRecord = {
    ID: id,
    TITLE: "",
    CREATED_BY: user,
    UPDATED_BY: user,
    CREATED_TIME: created,
    UPDATED_TIME: created,
    ASSIGNED_BY_ID: user,
    STAGE_ID: stage,
    OPPORTUNITY: 0,
    CURRENCY_ID: "EUR",
    COMPANY_ID: null,
    ...(categoryId === null
      ? {}
      : {
          CATEGORY_ID: categoryId,
          PREVIOUS_STAGE_ID: stage === first ? "" : first,
          MOVED_BY: user,
          MOVED_TIME: created,
          BEGINDATE: created,
          CLOSEDATE: null,
        }),
    ...values,
  };
  store.records.set(id, rec);
  if (entityTypeId === QUOTE) return;
  history(portal, entityTypeId, id, 1, created, categoryId, first);
  if (stage !== first)
    history(
      portal,
      entityTypeId,
      id,
      finalStage(portal, stage) ? 3 : 2,
      fake.clock.iso(Date.UTC(2025, 11, 15, 8, id)),
      categoryId,
      stage,
    );
}

/** Seeded deals and leads were created in their first stage on 2025-12-01 and moved to the one they have now. */
function seedLegacyHistory(portal: PortalState) {
  const iso = (day: number, id: number) =>
    `2025-12-${String(day).padStart(2, "0")}T09:${String(id % 60).padStart(2, "0")}:00+03:00`;
  for (const [entity, id, rec] of legacyRecords(portal)) {
    if (entity !== "deal" && entity !== "lead") continue;
    const { stage, category } = legacyStage(entity, rec);
    const first = firstStage(portal, LEGACY_TYPE_IDS[entity], category);
    history(portal, LEGACY_TYPE_IDS[entity], id, 1, iso(1, id), category, first);
    if (stage !== first)
      history(portal, LEGACY_TYPE_IDS[entity], id, finalStage(portal, stage) ? 3 : 2, iso(15, id), category, stage);
  }
}

function* legacyRecords(portal: PortalState): Generator<[Entity, number, CrmRecord]> {
  for (const entity of ["lead", "deal"] as Entity[])
    for (const [id, rec] of portal.crm[entity]) yield [entity, id, rec];
}

function seedProductRows(portal: PortalState) {
  const products: [number, string, number][] = [
    [101, "Consulting hour", 120],
    [102, "License (year)", 990],
    [103, "Setup", 450],
  ];
  const owners: [string, number][] = [
    ["D", 1],
    ["D", 2],
    ["D", 3],
    ["Q", 1],
    ["SI", 1],
    ["T80", 1],
  ];
  for (const [ownerType, ownerId] of owners) {
    products.slice(0, ownerType === "D" ? 2 : 3).forEach(([productId, productName, price], i) => {
      portal.items.productRows.push({
        id: portal.items.nextProductRowId++,
        ownerId,
        ownerType,
        productId,
        productName,
        price,
        quantity: i + 1,
        discountTypeId: 2,
        discountRate: 0,
        discountSum: 0,
        taxRate: null,
        taxIncluded: "N",
        measureCode: 796,
        measureName: "pcs",
        sort: (i + 1) * 10,
      });
    });
  }
}

function history(
  portal: PortalState,
  entityTypeId: number,
  ownerId: number,
  TYPE_ID: StageHistoryRow["TYPE_ID"],
  at: string,
  categoryId: number | null,
  stage: string,
) {
  portal.items.stageHistory.push({
    entityTypeId,
    ID: portal.items.nextStageHistoryId++,
    TYPE_ID,
    OWNER_ID: ownerId,
    CREATED_TIME: at,
    CATEGORY_ID: categoryId,
    SEMANTIC_ID: finalStage(portal, stage) ?? "P",
    STAGE_ID: stage,
  });
}

/** "S" / "F" for a final stage (crm.status.list SEMANTICS), null for an intermediate one. */
function finalStage(portal: PortalState, stage: string): "S" | "F" | null {
  return statusesOf(portal).find((s) => s.STATUS_ID === stage)?.SEMANTICS ?? null;
}

/** The first stage of a funnel (deals: NEW / C<n>:NEW; leads: NEW; items: their directory's first row by SORT). */
export function firstStage(portal: PortalState, entityTypeId: number, categoryId: number | null): string {
  if (entityTypeId === 1) return "NEW";
  if (entityTypeId === 2) return categoryId ? `C${categoryId}:NEW` : "NEW";
  const rows = statusesOf(portal).filter((s) => s.ENTITY_ID === stageEntityId(entityTypeId, categoryId));
  return [...rows].sort((a, b) => a.SORT - b.SORT)[0]?.STATUS_ID ?? "";
}

function legacyStage(entity: Entity, rec: CrmRecord): { stage: string; category: number | null } {
  if (entity === "lead") return { stage: String(rec.STATUS_ID ?? ""), category: null };
  return { stage: String(rec.STAGE_ID ?? ""), category: Number(rec.CATEGORY_ID ?? 0) };
}

/**
 * A stage move of a deal or lead, recorded in the stage history: creation TYPE_ID 1, a move 2 (3 when the stage is
 * final), a funnel change 5 (crm-stage-history-list.md). Called by crmWrite for every write, REST or UI.
 */
export function recordLegacyStageChange(
  fake: FakeBitrix,
  portal: PortalState,
  entity: Entity,
  id: number,
  prev: CrmRecord | undefined,
  next: CrmRecord | undefined,
): void {
  if ((entity !== "deal" && entity !== "lead") || !next) return;
  const now = legacyStage(entity, next);
  const typeId = LEGACY_TYPE_IDS[entity];
  if (!prev) return history(portal, typeId, id, 1, fake.clock.iso(), now.category, now.stage);
  const was = legacyStage(entity, prev);
  if (was.category !== now.category) history(portal, typeId, id, 5, fake.clock.iso(), now.category, now.stage);
  else if (was.stage !== now.stage) {
    history(portal, typeId, id, finalStage(portal, now.stage) ? 3 : 2, fake.clock.iso(), now.category, now.stage);
  }
}

/**
 * The events of an item write: quotes ONCRMQUOTE<ACTION> with `FIELDS.ID` (crm/quote/events/*), new invoices and
 * SPAs ONCRMDYNAMICITEM<ACTION> with `FIELDS.ID` and `FIELDS.ENTITY_TYPE_ID` ("When new invoices are modified, the
 * event onCrmDynamicItemUpdate will trigger", crm/universal/events/on-crm-dynamic-item-update.md), and for an SPA
 * also the per-type ONCRMDYNAMICITEM<ACTION>_<entityTypeId> (crm/universal/events/index.md).
 */
function fireItemEvent(
  fake: FakeBitrix,
  portal: PortalState,
  entityTypeId: number,
  action: string,
  id: number,
  userId: number,
  connector?: string,
) {
  const a = action.toUpperCase();
  if (entityTypeId === QUOTE)
    return fireEvent(fake, portal, `ONCRMQUOTE${a}`, { FIELDS: { ID: String(id) } }, userId, connector);
  const data = { FIELDS: { ID: String(id), ENTITY_TYPE_ID: String(entityTypeId) } };
  fireEvent(fake, portal, `ONCRMDYNAMICITEM${a}`, data, userId, connector);
  if (entityTypeId >= 128) fireEvent(fake, portal, `ONCRMDYNAMICITEM${a}_${entityTypeId}`, data, userId, connector);
}

/**
 * Adds (id null), updates or deletes an item of any type. Legacy types go through crmWrite (their own events);
 * others stamp UPDATED_TIME/UPDATED_BY, keep PREVIOUS_STAGE_ID/MOVED_* on a stage move, put an item moved to another
 * funnel without a stage in the funnel's first stage, and feed the stage history.
 */
export function itemWrite(
  fake: FakeBitrix,
  portal: PortalState,
  entityTypeId: number,
  action: "add" | "update" | "delete",
  id: number | null,
  fields: CrmRecord,
  userId: number,
  connector?: string,
): number {
  const legacy = LEGACY_BY_TYPE_ID[entityTypeId];
  // a deal's funnel change, its stage and ONCRMDEALMOVETOCATEGORY: crmWrite (deal-moves.ts)
  if (legacy) return crmWrite(fake, portal, legacy, action, id, fields, userId, connector);
  const store = portal.items.stores.get(entityTypeId)!;
  const now = fake.clock.iso();
  if (action === "delete") {
    store.records.delete(id!);
    portal.items.productRows = portal.items.productRows.filter(
      (r) => !(r.ownerId === id && ownerIs(r.ownerType, entityTypeId)),
    );
    fireItemEvent(fake, portal, entityTypeId, action, id!, userId, connector);
    return id!;
  }
  const prev = id === null ? undefined : store.records.get(id);
  if (!prev) id = store.nextId++;
  const base: CrmRecord = prev ?? {
    ID: id,
    CREATED_BY: userId,
    CREATED_TIME: now,
    ASSIGNED_BY_ID: userId,
    OPPORTUNITY: 0,
    CURRENCY_ID: "EUR",
    ...(store.categories.length ? { CATEGORY_ID: store.categories[0]!.id } : {}),
  };
  const next: CrmRecord = { ...base, ...fields, ID: id, UPDATED_BY: userId, UPDATED_TIME: now };
  const categoryId = store.categories.length ? Number(next.CATEGORY_ID) : null;
  const categoryMoved = prev && categoryId !== null && Number(prev.CATEGORY_ID) !== categoryId;
  if (!next.STAGE_ID || (categoryMoved && fields.STAGE_ID === undefined))
    next.STAGE_ID = firstStage(portal, entityTypeId, categoryId);
  if (categoryId !== null && (!prev || prev.STAGE_ID !== next.STAGE_ID)) {
    Object.assign(next, { PREVIOUS_STAGE_ID: prev ? prev.STAGE_ID : "", MOVED_BY: userId, MOVED_TIME: now });
    if (entityTypeId !== QUOTE) {
      const type = !prev ? 1 : categoryMoved ? 5 : finalStage(portal, String(next.STAGE_ID)) ? 3 : 2;
      history(portal, entityTypeId, id!, type, now, categoryId, String(next.STAGE_ID));
    }
  }
  store.records.set(id!, next);
  fireItemEvent(fake, portal, entityTypeId, prev ? "update" : "add", id!, userId, connector);
  return id!;
}

/** Whether a product row's ownerType code names this entity type (T80 = 128: core's 'T' . dechex(typeId)). */
export const ownerIs = (ownerType: string, entityTypeId: number) =>
  ownerType.toLowerCase() === ownerTypeAbbr(entityTypeId)?.toLowerCase();

/**
 * A smart-process type added, renamed or deleted by an admin (the control API plays the portal's settings page):
 * ONCRMTYPEADD / ONCRMTYPEUPDATE / ONCRMTYPEDELETE with `FIELDS.ID` = the type's id, "primary key, not the type
 * identifier" (crm/universal/events/type/on-crm-type-add.md). A new type takes the next even entityTypeId.
 */
export function changeType(
  fake: FakeBitrix,
  portal: PortalState,
  action: "add" | "update" | "delete",
  body: { id?: number; entityTypeId?: number; title?: string },
  userId = 1,
): CrmType | null {
  const items = portal.items;
  const find = () => items.types.find((t) => t.id === Number(body.id) || t.entityTypeId === Number(body.entityTypeId));
  let type: CrmType | undefined;
  if (action === "add") {
    const entityTypeId = Number(body.entityTypeId ?? Math.max(126, ...items.types.map((t) => t.entityTypeId)) + 2);
    if (items.stores.has(entityTypeId)) throw new Error(`type ${entityTypeId} exists`);
    type = newType(portal, String(body.title ?? `Smart process #${items.nextTypeId}`), entityTypeId, fake.clock.iso());
    type.createdBy = type.updatedBy = userId;
    addStore(portal, entityTypeId, [{ id: 100 + type.id, name: type.title }]);
  } else {
    type = find();
    if (!type) throw new Error("no such type");
    if (action === "update")
      Object.assign(type, {
        title: String(body.title ?? type.title),
        updatedBy: userId,
        updatedTime: fake.clock.iso(),
      });
    else {
      items.types = items.types.filter((t) => t !== type);
      items.stores.delete(type.entityTypeId);
    }
  }
  fireEvent(fake, portal, `ONCRMTYPE${action.toUpperCase()}`, { FIELDS: { ID: String(type.id) } }, userId);
  return type;
}
