import { fromItemFields, itemFields, toItem } from "./items-model";
import { changeType, itemWrite } from "./items-store";
import { recordsOf } from "./methods-items";
import { rowOut, touchOwner } from "./methods-productrows";
import type { FakeBitrix, PortalState } from "./types";

// Control routes for items (docs/fake-portal.md): what a user or an admin does in the portal's UI.
//   POST /_fake/crm-types {action: "add"|"update"|"delete", id?, entityTypeId?, title?}  smart-process types (events)
//   POST /_fake/items/<entityTypeId>/<id|new> {fields, userId}, DELETE /_fake/items/<t>/<id>  an item edited in a card
//   POST /_fake/productrows/<id> {fields: {quantity…}, userId}                            a product row changed
//   GET /_fake/items/<entityTypeId>/<id>, GET /_fake/stagehistory                         inspection

type Body = Record<string, unknown>;

export function handleItemControl(
  fake: FakeBitrix,
  portal: PortalState,
  method: string,
  url: URL,
  body: Body,
): { value: unknown } | null {
  const path = url.pathname.replace(/\/$/, "");
  const userId = Number(body.userId ?? 1);
  if (method === "POST" && path === "/_fake/crm-types") {
    const action = String(body.action ?? "add") as "add" | "update" | "delete";
    return {
      value: changeType(fake, portal, action, body as { id?: number; entityTypeId?: number; title?: string }, userId),
    };
  }
  if (method === "GET" && path === "/_fake/stagehistory") return { value: portal.items.stageHistory };
  const item = /^\/_fake\/items\/(\d+)\/(\d+|new)$/.exec(path);
  if (item) {
    const t = Number(item[1]);
    if (!itemFields(portal, t)) throw new Error(`no entity type ${t}`);
    const id = item[2] === "new" ? null : Number(item[2]);
    if (id !== null && !recordsOf(portal, t).has(id)) throw new Error(`no item ${t}/${id}`);
    if (method === "POST" || method === "DELETE") {
      const action = method === "DELETE" ? "delete" : id === null ? "add" : "update";
      const fields = fromItemFields(portal, t, (body.fields ?? {}) as Body);
      const written = itemWrite(fake, portal, t, action, id, fields, userId);
      const rec = recordsOf(portal, t).get(written);
      return { value: { id: written, item: rec ? toItem(portal, fake.clock, t, rec) : null } };
    }
    const rec = id === null ? undefined : recordsOf(portal, t).get(id);
    return { value: rec ? toItem(portal, fake.clock, t, rec) : null };
  }
  const row = /^\/_fake\/productrows\/(\d+)$/.exec(path);
  if (row && method === "POST") {
    const r = portal.items.productRows.find((x) => x.id === Number(row[1]));
    if (!r) throw new Error(`no product row ${row[1]}`);
    const fields = (body.fields ?? {}) as Body;
    for (const k of ["quantity", "price", "productName"] as const) {
      if (fields[k] !== undefined)
        Object.assign(r, { [k]: k === "productName" ? String(fields[k]) : Number(fields[k]) });
    }
    const t =
      ({ L: 1, D: 2, Q: 7, SI: 31 } as Record<string, number>)[r.ownerType] ?? parseInt(r.ownerType.slice(1), 16);
    touchOwner(fake, portal, t, r.ownerId, userId);
    return { value: rowOut(r) };
  }
  return null;
}
