import "server-only";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { entityTypeIdOf } from "@/lib/history/entity-types";
import { fileNames } from "@/lib/history/file-names";
import {
  AMOUNT_FIELDS,
  fileIdsOf,
  linksOf,
  recordTitle,
  userIdsOf,
  type FieldInfo,
  type ValueContext,
} from "@/lib/history/format";
import type { ChangeToPresent } from "@/lib/history/present";
import { smartProcessTitle } from "@/lib/history/type-titles";
import { resolveUserNames } from "@/lib/history/users";
import { dict, typeName } from "@/lib/i18n";
import { log } from "@/lib/log";

// What formatting a page of changes needs beyond the values (lib/history/format.ts is pure): names of the users and
// records they name, the record's currency, the portal's address, and the record's own title for the header.

/** A value as stored, for the CSV's raw columns: text as it is, anything else as JSON. */
export const rawValue = (v: unknown) =>
  v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);

/**
 * The names a page's values need, read once: users named by user fields (user.get for the ones not cached yet — one
 * call for up to 50; a failure leaves "#4"), linked records from our own snapshots (no REST call per row), the
 * records' currencies for amounts, the portal's address for file links and the files' names (file-names.ts).
 */
export async function valueContext(
  portalId: string,
  entityType: string,
  changes: ChangeToPresent[],
  metaOf: (field: string) => FieldInfo | undefined,
  lang: string,
  timeZone?: string,
): Promise<(c: ChangeToPresent) => ValueContext> {
  const db = getDb();
  const t = dict(lang);
  const values = changes.flatMap((c) => [c.oldValue, c.newValue].map((v) => ({ v, meta: metaOf(c.field) })));
  const userIds = [...new Set(values.flatMap(({ v, meta }) => userIdsOf(v, meta)))];
  const fileIds = values.flatMap(({ v, meta }) => fileIdsOf(v, meta));
  const links = values.flatMap(({ v, meta }) => linksOf(v, meta));
  const isFile = (field: string) => ["file", "disk_file"].includes(metaOf(field)?.type ?? "");
  const own = [
    ...new Set(
      changes.filter((c) => (AMOUNT_FIELDS.has(c.field) || isFile(c.field)) && c.entityId).map((c) => c.entityId!),
    ),
  ];
  const wanted = [...links, ...own.map((id) => ({ entity: entityType, id }))];
  const hasFiles = values.some(({ meta }) => meta?.type === "file" || meta?.type === "disk_file");
  if (userIds.length) await resolveMissingUsers(portalId, userIds);
  const byType = new Map<string, number[]>();
  for (const w of wanted) byType.set(w.entity, [...(byType.get(w.entity) ?? []), w.id]);
  const [users, snapshots, portal, files] = await Promise.all([
    userIds.length ? db.userNameCache.findMany({ where: { portalId, userId: { in: userIds } } }) : [],
    byType.size
      ? db.crmSnapshot.findMany({
          where: {
            portalId,
            OR: [...byType].map(([entity, ids]) => ({ entityType: entity, entityId: { in: [...new Set(ids)] } })),
          },
          select: { entityType: true, entityId: true, fields: true },
        })
      : [],
    hasFiles ? db.portal.findUnique({ where: { id: portalId }, select: { clientEndpoint: true } }) : null,
    fileNames(portalId, fileIds),
  ]);
  const names = new Map(users.map((u) => [u.userId, u.name]));
  const records = new Map(snapshots.map((r) => [`${r.entityType}:${r.entityId}`, r.fields as Record<string, unknown>]));
  let origin: string | undefined;
  try {
    origin = portal ? new URL(portal.clientEndpoint).origin : undefined;
  } catch {
    /* no links then */
  }
  const base: ValueContext = {
    lang,
    timeZone,
    origin,
    words: { yes: t.yes, no: t.no, file: t.file },
    userName: (id) => names.get(id),
    fileName: (id) => files.get(Number(id)),
    recordName: (entity, id) => recordTitle(records.get(`${entity}:${id}`)) ?? `${typeName(t, entity)} #${id}`,
  };
  // A change stores a file by its id (diff.ts): its name and link come from our snapshot, while the record has it.
  const fileIn = (mine: Record<string, unknown> | undefined) => (field: string, id: string) =>
    [mine?.[field]]
      .flat()
      .find((f) => typeof f === "object" && f !== null && String((f as { id?: unknown }).id) === id);
  return (c) => {
    const mine = c.entityId ? records.get(`${entityType}:${c.entityId}`) : undefined;
    const currency = mine?.CURRENCY_ID ?? mine?.currencyId;
    return { ...base, fileOf: fileIn(mine), ...(typeof currency === "string" && currency ? { currency } : {}) };
  };
}

async function resolveMissingUsers(portalId: string, ids: number[]) {
  try {
    const known = await getDb().userNameCache.count({ where: { portalId, userId: { in: ids } } });
    if (known < ids.length) await resolveUserNames(portalId, ids, await bitrixFor(portalId));
  } catch (error) {
    log.warn({ portalId, err: error }, "could not read user names; user fields show ids");
  }
}

/**
 * What the tab's header names: the record's type in the user's language (a smart process by its own title) and the
 * record's title from our latest snapshot (TITLE, or a contact's NAME LAST_NAME); null before the first snapshot.
 */
export async function recordHeading(
  portalId: string,
  entityType: string,
  entityId: number,
  lang: string,
): Promise<{ type: string; title: string | null }> {
  const t = dict(lang);
  const typeId = entityTypeIdOf(entityType);
  const [snapshot, spTitle] = await Promise.all([
    getDb().crmSnapshot.findUnique({
      where: { portalId_entityType_entityId: { portalId, entityType, entityId } },
      select: { fields: true },
    }),
    entityType.startsWith("dynamic_") && typeId ? smartProcessTitle(portalId, typeId) : undefined,
  ]);
  const title = recordTitle(snapshot?.fields as Record<string, unknown> | undefined) ?? null;
  return { type: typeName(t, entityType, spTitle), title };
}
