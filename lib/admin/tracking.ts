import "server-only";
import { z } from "zod";
import type { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";
import { IGNORED_FIELDS } from "@/lib/history/diff";
import { entityTypeIdOf, isEntityKey } from "@/lib/history/entity-types";
import { smartProcessTitle } from "@/lib/history/type-titles";
import { typeName, type Dict } from "@/lib/i18n";

// Which CRM types and fields a portal keeps history of (issue #17, "real settings"): everything by default; an admin
// may leave out a whole type (say, leads) or single fields (a field robots rewrite every minute). The choice is
// stored as what is left out, so a type or field that appears later (a new smart process, a new custom field) is
// tracked. Left-out types and fields are still read — snapshots stay current, so tracking them again later records
// exactly what changes from then on, never a made-up burst of everything that changed meanwhile — only no change of
// theirs is stored (lib/history/snapshots.ts, the one place changes are written; deletes in capture.ts; stage moves
// from before the install in stage-history.ts).
export interface Tracking {
  untrackedTypes: string[];
  untrackedFields: Record<string, string[]>;
}

/** A field as the record carries it: legacy UPPER_CASE, items' camelCase, custom UF_… names, our __products__. */
const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const entityKey = z
  .string()
  .refine(
    isEntityKey,
    "not a CRM type this app knows (deal, contact, company, lead, quote, smart_invoice, dynamic_<n>)",
  );

export const TrackingInputSchema = {
  untrackedTypes: z.array(entityKey).max(500),
  untrackedFields: z.record(entityKey, z.array(z.string().regex(FIELD_KEY, "not a field name")).max(1000)),
};

export function parseTracking(row: { untrackedTypes: string[]; untrackedFields: Prisma.JsonValue }): Tracking {
  const fields =
    row.untrackedFields && typeof row.untrackedFields === "object" && !Array.isArray(row.untrackedFields)
      ? (row.untrackedFields as Record<string, string[]>)
      : {};
  return { untrackedTypes: row.untrackedTypes, untrackedFields: fields };
}

/** A predicate over (type, field) — `field` omitted: the type as a whole. */
export function trackingFilter(t: Tracking): (entityType: string, field?: string) => boolean {
  const types = new Set(t.untrackedTypes);
  const fields = new Map(Object.entries(t.untrackedFields).map(([k, v]) => [k, new Set(v)]));
  return (entityType, field) => !types.has(entityType) && !(field && fields.get(entityType)?.has(field));
}

/** The portal's tracking as a predicate (snapshots.ts reads the same columns inside its own transaction). */
export async function loadTracking(portalId: string): Promise<(entityType: string, field?: string) => boolean> {
  const row = await getDb().portal.findUnique({
    where: { id: portalId },
    select: { untrackedTypes: true, untrackedFields: true },
  });
  return trackingFilter(row ? parseTracking(row) : { untrackedTypes: [], untrackedFields: {} });
}

export interface TrackableType {
  key: string;
  name: string;
  fields: { key: string; label: string }[];
}

/**
 * The types and fields an admin can choose from: the legacy four, and every type whose fields the app has read (quotes,
 * invoices, smart processes it has seen), each field by its label as the portal gives it in the portal's language;
 * bookkeeping fields that never hold a user's edit (IDs, modify stamps) are not offered.
 */
export async function trackableTypes(portalId: string, t: Dict): Promise<TrackableType[]> {
  const metas = await getDb().crmFieldMeta.findMany({
    where: { portalId },
    select: { entityType: true, fields: true },
  });
  const byType = new Map(metas.map((m) => [m.entityType, (m.fields ?? {}) as Record<string, FieldLabels>]));
  const keys = [...new Set([...ORDER, ...[...byType.keys()].filter(isEntityKey)])].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b, "en", { numeric: true }),
  );
  return Promise.all(
    keys.map(async (key) => {
      const id = entityTypeIdOf(key);
      const title = key.startsWith("dynamic_") && id ? await smartProcessTitle(portalId, id) : undefined;
      const fields = Object.entries(byType.get(key) ?? {})
        .filter(([f]) => !IGNORED_FIELDS.has(f))
        .map(([f, m]) => ({ key: f, label: m.formLabel || m.listLabel || m.title || f }))
        .sort((a, b) => a.label.localeCompare(b.label));
      return { key, name: typeName(t, key, title), fields };
    }),
  );
}

interface FieldLabels {
  title?: string;
  formLabel?: string;
  listLabel?: string;
  isReadOnly?: boolean;
}
const ORDER = ["deal", "contact", "company", "lead", "quote", "smart_invoice"];
const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
