import "server-only";
import { bitrixFor, isBitrixError } from "@/lib/bitrix";
import { log } from "@/lib/log";

// A smart process's own title ("Projects"), as an admin named it: crm.type.getByEntityTypeId answers `{type: {title}}`
// (b24restdocs crm/universal/user-defined-object-types/crm-type-get-by-entity-type-id.md). Read once per portal and
// type an hour in this process, for the tab's header; a title is the admin's text, in no particular language. A
// portal whose token may not read types (only CRM admins may, crm-type-list.md) or has lost the type gets no title:
// the header then says "Smart process".
const TTL_MS = 3600_000;
const cache = new Map<string, { title: string | undefined; at: number }>();

export async function smartProcessTitle(portalId: string, entityTypeId: number): Promise<string | undefined> {
  const key = `${portalId}:${entityTypeId}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.title;
  let title: string | undefined;
  try {
    const client = await bitrixFor(portalId);
    const res = await client.call<{ type?: { title?: string } }>(
      "crm.type.getByEntityTypeId",
      { entityTypeId },
      { lane: "interactive" },
    );
    title = typeof res.result.type?.title === "string" && res.result.type.title ? res.result.type.title : undefined;
  } catch (error) {
    if (!isBitrixError(error)) throw error;
    log.warn({ portalId, entityTypeId, err: error }, "could not read the smart process's title");
  }
  cache.set(key, { title, at: Date.now() });
  return title;
}
