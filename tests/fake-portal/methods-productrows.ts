import { RestError } from "./errors";
import { LEGACY_BY_TYPE_ID, type ItemField, typeIdOfAbbr } from "./items-model";
import { asList, asObject, compileFilter, page, sortRows, type Row } from "./items-query";
import { itemWrite, ownerIs } from "./items-store";
import { mayRead, recordsOf } from "./methods-items";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { FakeBitrix, FieldDef, PortalState, ProductRow } from "./types";

// crm.item.productrow.* (b24restdocs api-reference/crm/universal/product-rows/*.md). A row belongs to a lead (L), deal
// (D), quote (Q), new invoice (SI) or SPA (T<hex entityTypeId>, T80 = 128). Rows raise no event of their own: every
// write "launches" the owner's update operation (core modules/crm/lib/controller/item/productrow.php: add, update,
// delete and set all end in `$factory->getUpdateOperation($item)->launch()`), so the owner's updatedTime/updatedBy
// move and the owner's UPDATE event fires (ONCRMDEALUPDATE, ONCRMQUOTEUPDATE, ONCRMDYNAMICITEMUPDATE).

const f = (type: string, title: string, isReadOnly = false): FieldDef => ({
  type,
  isRequired: false,
  isReadOnly,
  isImmutable: false,
  isMultiple: false,
  isDynamic: false,
  title,
});
/** crm-item-productrow-fields.md (PRICE_EXCLUSIVE, NETTO, BRUTTO, ACCOUNT read-only in the new API: productrow.php) */
const DEFS: Record<string, FieldDef> = {
  id: f("integer", "ID", true),
  ownerId: f("integer", "Owner ID"),
  ownerType: f("string", "Owner type"),
  productId: f("integer", "Product"),
  productName: f("string", "Product name"),
  price: f("double", "Price"),
  priceAccount: f("double", "Price (account)", true),
  priceExclusive: f("double", "Price without tax", true),
  priceNetto: f("double", "Price netto", true),
  priceBrutto: f("double", "Price brutto", true),
  quantity: f("double", "Quantity"),
  discountTypeId: f("integer", "Discount type"),
  discountRate: f("double", "Discount %"),
  discountSum: f("double", "Discount amount"),
  taxRate: f("double", "Tax rate"),
  taxIncluded: f("char", "Tax included"),
  customized: f("char", "Customized"),
  measureCode: f("integer", "Unit code"),
  measureName: f("string", "Unit"),
  sort: f("integer", "Sort"),
  xmlId: f("string", "External ID"),
  type: f("integer", "Type"),
  storeId: f("integer", "Store"),
};
const FIELDS: ItemField[] = Object.entries(DEFS).map(([name, def]) => ({ name, upper: name, key: name, def }));
const WRITABLE = [
  "productId",
  "productName",
  "price",
  "quantity",
  "discountTypeId",
  "discountRate",
  "discountSum",
  "taxRate",
  "taxIncluded",
  "measureCode",
  "measureName",
  "sort",
] as const;

/** A row as crm-item-productrow-list.md shows it (computed prices, taxes off unless given). */
export function rowOut(r: ProductRow) {
  const netto = r.price + r.discountSum;
  return {
    id: r.id,
    ownerId: r.ownerId,
    ownerType: r.ownerType,
    productId: r.productId,
    productName: r.productName,
    price: r.price,
    priceAccount: r.price,
    priceExclusive: r.price,
    priceNetto: netto,
    priceBrutto: netto,
    quantity: r.quantity,
    discountTypeId: r.discountTypeId,
    discountRate: r.discountRate,
    discountSum: r.discountSum,
    taxRate: r.taxRate,
    taxIncluded: r.taxIncluded,
    customized: "Y",
    measureCode: r.measureCode,
    measureName: r.measureName,
    sort: r.sort,
    xmlId: "",
    type: 1,
    storeId: null,
  };
}

/** The owner, resolved and checked: ENTITY_TYPE_NOT_SUPPORTED (contacts, companies, unknown codes), OWNER_NOT_FOUND. */
function owner(
  ctx: Ctx,
  ownerType: unknown,
  ownerId: unknown,
  need: "read" | "write",
): { t: number; id: number; code: string } {
  const code = String(ownerType ?? "");
  const t = typeIdOfAbbr(code.toUpperCase());
  const supported =
    t !== null && t !== 3 && t !== 4 && (LEGACY_BY_TYPE_ID[t] !== undefined || ctx.portal.items.stores.has(t));
  if (!supported) throw new RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", `Entity type \`${code}\` is not supported`);
  const id = Number(ownerId);
  if (!recordsOf(ctx.portal, t).has(id)) throw new RestError(400, "OWNER_NOT_FOUND", "Owner was not found");
  const key = `${ctx.userId}:${LEGACY_BY_TYPE_ID[t] ?? t}:${id}`;
  if (!mayRead(ctx, t, id) || (need === "write" && ctx.portal.rights.denyWrite.has(key))) {
    throw new RestError(400, "ACCESS_DENIED", "Access denied");
  }
  return { t, id, code: t >= 128 ? `T${t.toString(16)}` : code.toUpperCase() };
}

function fill(input: Row, base: Partial<ProductRow> = {}): Partial<ProductRow> {
  const out: Record<string, unknown> = { ...base };
  for (const k of WRITABLE) {
    const v = input[k] ?? input[k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()];
    if (v === undefined) continue;
    out[k] = ["productName", "measureName", "taxIncluded"].includes(k) ? String(v) : v === null ? null : Number(v);
  }
  return out as Partial<ProductRow>;
}

function newRow(portal: PortalState, code: string, ownerId: number, input: Row): ProductRow {
  return {
    id: portal.items.nextProductRowId++,
    ownerId,
    ownerType: code,
    productId: 0,
    productName: "",
    price: 0,
    quantity: 1,
    discountTypeId: 2,
    discountRate: 0,
    discountSum: 0,
    taxRate: null,
    taxIncluded: "N",
    measureCode: 796,
    measureName: "pcs",
    sort: 10,
    ...fill(input),
  } as ProductRow;
}

/** The owner's update operation: updatedTime / updatedBy and its UPDATE event (see the header). */
export function touchOwner(
  fake: FakeBitrix,
  portal: PortalState,
  t: number,
  id: number,
  userId: number,
  connector?: string,
) {
  itemWrite(fake, portal, t, "update", id, {}, userId, connector);
}

function requireRow(ctx: Ctx, rawId: unknown, need: "read" | "write") {
  const row = ctx.portal.items.productRows.find((r) => r.id === Number(rawId));
  if (!row) throw new RestError(400, "NOT_FOUND", "Product row not found");
  return { row, ...owner(ctx, row.ownerType, row.ownerId, need) };
}

/** `=ownerType` and `=ownerId` are required filter keys (crm-item-productrow-list.md; productrow.php). */
function listRows(ctx: Ctx, p: Row) {
  const filter = asObject(p.filter);
  if (!filter["=ownerType"]) throw new RestError(400, "100", "Required argument '=ownerType' is missing");
  if (!(Number(filter["=ownerId"]) > 0)) throw new RestError(400, "100", "Required argument '=ownerId' is missing");
  const o = owner(ctx, filter["=ownerType"], filter["=ownerId"], "read");
  const rest = Object.fromEntries(Object.entries(filter).filter(([k]) => k !== "=ownerType" && k !== "=ownerId"));
  const rows: Row[] = ctx.portal.items.productRows
    .filter((r) => r.ownerId === o.id && ownerIs(r.ownerType, o.t))
    .map(rowOut)
    .filter(compileFilter(rest, FIELDS, (x) => x.name));
  sortRows(
    rows,
    Object.keys(asObject(p.order)).length ? asObject(p.order) : { sort: "ASC" },
    FIELDS,
    (x) => x.name,
    "id",
  );
  const { rows: productRows, total, next } = page(rows, p.start);
  return new ListAnswer({ productRows }, total, next);
}

export const productRowMethods: MethodTable = {
  "crm.item.productrow.fields": () => ({ fields: DEFS }),
  "crm.item.productrow.list": listRows,
  "crm.item.productrow.get": (ctx, p) => ({ productRow: rowOut(requireRow(ctx, p.id, "read").row) }),
  "crm.item.productrow.add": (ctx, p) => {
    const fields = asObject(p.fields);
    const o = owner(ctx, fields.ownerType, fields.ownerId, "write");
    const row = newRow(ctx.portal, o.code, o.id, fields);
    ctx.portal.items.productRows.push(row);
    touchOwner(ctx.fake, ctx.portal, o.t, o.id, ctx.userId, ctx.connector);
    return { productRow: rowOut(row) };
  },
  "crm.item.productrow.update": (ctx, p) => {
    const { row, t, id } = requireRow(ctx, p.id, "write");
    Object.assign(row, fill(asObject(p.fields)));
    touchOwner(ctx.fake, ctx.portal, t, id, ctx.userId, ctx.connector);
    return { productRow: rowOut(row) };
  },
  "crm.item.productrow.delete": (ctx, p) => {
    const { row, t, id } = requireRow(ctx, p.id, "write");
    ctx.portal.items.productRows = ctx.portal.items.productRows.filter((r) => r !== row);
    touchOwner(ctx.fake, ctx.portal, t, id, ctx.userId, ctx.connector);
    return null;
  },
  /** replaces every row of the owner ("will overwrite all existing product rows", crm-item-productrow-set.md) */
  "crm.item.productrow.set": (ctx, p) => {
    const o = owner(ctx, p.ownerType, p.ownerId, "write");
    const items = ctx.portal.items;
    items.productRows = items.productRows.filter((r) => !(r.ownerId === o.id && ownerIs(r.ownerType, o.t)));
    const rows = asList(p.productRows).map((r) => newRow(ctx.portal, o.code, o.id, asObject(r)));
    items.productRows.push(...rows);
    touchOwner(ctx.fake, ctx.portal, o.t, o.id, ctx.userId, ctx.connector);
    return { productRows: rows.map(rowOut) };
  },
};
