import type { FakeClock } from "./clock";
import type { PortalLang, StatusRow } from "./directories";

export type Entity = "deal" | "contact" | "company" | "lead";
export const ENTITIES: Entity[] = ["deal", "contact", "company", "lead"];
export type CrmRecord = Record<string, unknown>;

/** crm.*.fields description shape (Bitrix24's field metadata). */
export interface FieldDef {
  type: string;
  isRequired: boolean;
  isReadOnly: boolean;
  isImmutable: boolean;
  isMultiple: boolean;
  isDynamic: boolean;
  title: string;
  listLabel?: string;
  formLabel?: string;
  filterLabel?: string;
  items?: { ID: string; VALUE: string }[];
  settings?: Record<string, unknown>;
  /** crm_status fields: the crm.status.list ENTITY_ID of their values (crm-deal-fields.md) */
  statusType?: string;
}

export interface FakeUser {
  ID: string;
  NAME: string;
  LAST_NAME: string;
  EMAIL: string;
  ADMIN: boolean;
  ACTIVE: boolean;
  extranet?: boolean;
}

export interface EventBinding {
  id: number;
  event: string;
  handler: string;
  authType: number;
  offline: boolean;
  connector: string;
  minTimeout: number;
}
export interface Placement {
  placement: string;
  handler: string;
  title: string;
  description: string;
  groupName: string;
  langAll: Record<string, unknown>;
  options: Record<string, unknown>;
  userId: number;
}

export interface OfflineItem {
  ID: number;
  TIMESTAMP_X: string;
  EVENT_NAME: string;
  EVENT_DATA: unknown;
  EVENT_ADDITIONAL: { user_id: string };
  MESSAGE_ID: string;
  PROCESS_ID: string | null;
  ERROR: number;
  connector: string;
}

export interface LogEntry {
  n: number;
  at: number;
  method: string;
  path: string;
  rest?: string;
  userId?: number;
  status: number;
}

/** A scripted answer for the next REST request: an exact response, a dropped connection, or an HTML error page. */
export type ScriptedAnswer = { status: number; body: unknown } | "drop" | "html";

export interface Faults {
  /** consumed one per REST request, before anything else is checked */
  script: ScriptedAnswer[];
  fail503: number;
  latencyMs: [number, number];
  dropEvents: number;
  duplicateEvents: number;
  methodErrors: Record<string, string>;
}

export interface AppState {
  installed: boolean;
  finished: boolean;
  version: number;
  applicationToken: string;
  options: Record<string, string>;
  status: string;
  license: string;
  paymentExpired: boolean;
  disabled: boolean;
  lastOfflineNotifyAt: number;
  /** ONAPPINSTALL goes out once per installation (lifecycle.ts sendInstallEvent) */
  installEventSent?: boolean;
}

export interface PortalState {
  index: number;
  memberId: string;
  port: number;
  baseUrl: string;
  domain: string;
  clientEndpoint: string;
  /** hosts this portal answered at before it moved (`POST /_fake/move`): their REST requests get a 302 */
  formerHosts?: string[];
  users: Map<number, FakeUser>;
  crm: Record<Entity, Map<number, CrmRecord>>;
  nextId: Record<Entity, number>;
  fields: Record<Entity, Record<string, FieldDef>>;
  app: AppState;
  bindings: EventBinding[];
  nextBindingId: number;
  placements: Placement[];
  offline: OfflineItem[];
  nextOfflineId: number;
  bucket: { burst: number; drain: number; level: number; at: number };
  operating: Map<string, { seconds: number; resetAt: number }>;
  operatingLimit: number;
  methodOverrides: Map<string, { isExisting?: boolean; isAvailable?: boolean; confirm?: "required" | "none" }>;
  /** `${accessToken}|${method}` → decision */
  confirmations: Map<string, "pending" | "confirmed" | "denied">;
  features: Record<string, string>;
  faults: Faults;
  /**
   * CRM access rights per user (Bitrix24's CRM roles, reduced to what the app must respect): keys
   * `${userId}:${entity}:${id}`; a denied read hides the record from that user's get/list/timeline, a denied write
   * refuses their update/delete. Empty unless a test denies something (POST /_fake/rights).
   */
  rights: { denyRead: Set<string>; denyWrite: Set<string> };
  /** the portal's language: field titles, list values and directory names come in it (directories.ts); "en" if unset */
  lang?: PortalLang;
  /** crm.status.list rows, seeded on first use (methods-status.ts) */
  statuses?: StatusRow[];
  webhook: { userId: number; secret: string };
  /** crm.item.* beyond the legacy entities, smart process types, product rows, stage history (items-store.ts) */
  items: ItemsState;
  disk: {
    files: Map<number, Record<string, unknown>>;
    nextId: number;
    uploads: Map<string, number>;
    templates: { id: number; name: string; size: number; bare: boolean }[];
    /** the files of CRM file fields: the name they were uploaded under (b_file ORIGINAL_NAME) and their bytes */
    crmFiles: Map<number, { name: string; content: Buffer }>;
  };
  timeline: {
    ENTITY_TYPE: string;
    ENTITY_ID: number;
    COMMENT: string;
    FILES: { name: string; size: number }[];
    AUTHOR_ID: number;
  }[];
  log: LogEntry[];
  counters: {
    rest: Record<string, number>;
    served503: number;
    refreshes: number;
    refreshAttempts: number;
    eventsDelivered: number;
    eventsDropped: number;
    logSeq: number;
  };
}

/** A smart process type as crm.type.list answers it (crm/data-types.md#type), flags "Y" / "N". */
export interface CrmType {
  id: number;
  title: string;
  code: string;
  entityTypeId: number;
  createdBy: number;
  updatedBy: number;
  createdTime: string;
  updatedTime: string;
  flags: Record<string, "Y" | "N">;
}

/** The records of one entity type the legacy crm.<entity>.* methods do not serve: quotes, new invoices, SPAs. */
export interface ItemStore {
  fields: Record<string, FieldDef>;
  records: Map<number, CrmRecord>;
  nextId: number;
  /** funnels (crm.category.list) of types with funnels; the first is the default */
  categories: { id: number; name: string }[];
}

/** crm.item.productrow.* (crm/data-types.md#crm_item_product_row) */
export interface ProductRow {
  id: number;
  ownerId: number;
  ownerType: string;
  productId: number;
  productName: string;
  price: number;
  quantity: number;
  discountTypeId: number;
  discountRate: number;
  discountSum: number;
  taxRate: number | null;
  taxIncluded: "Y" | "N";
  measureCode: number;
  measureName: string;
  sort: number;
}

/** One crm.stagehistory.list record (api-reference/crm/crm-stage-history-list.md), with its entity type. */
export interface StageHistoryRow {
  entityTypeId: number;
  ID: number;
  TYPE_ID: 1 | 2 | 3 | 5;
  OWNER_ID: number;
  CREATED_TIME: string;
  CATEGORY_ID: number | null;
  SEMANTIC_ID: "P" | "S" | "F";
  STAGE_ID: string;
}

export interface ItemsState {
  types: CrmType[];
  nextTypeId: number;
  stores: Map<number, ItemStore>;
  productRows: ProductRow[];
  nextProductRowId: number;
  stageHistory: StageHistoryRow[];
  nextStageHistoryId: number;
}

export interface TokenInfo {
  portal: PortalState;
  userId: number;
  expiresAtMs: number;
}
export interface RefreshInfo {
  portal: PortalState;
  userId: number;
  rotated: boolean;
  issuedAtMs: number;
}

export interface AppRegistration {
  clientId: string;
  clientSecret: string;
  appUrl: string;
  scopes: string[];
}

export interface FakeBitrix {
  app: AppRegistration;
  clock: FakeClock;
  portals: PortalState[];
  oauthUrl: string;
  tokens: Map<string, TokenInfo>;
  refreshTokens: Map<string, RefreshInfo>;
  codes: Map<string, { portal: PortalState; userId: number; expiresAtMs: number }>;
  latencyMs: [number, number];
  /** frames and the installer post the richer form of newer docs pages instead of the core's (lifecycle.ts) */
  richForms?: boolean;
}
