import { z } from "zod";
import { authenticateApiRequest } from "@/lib/api/tokens";
import { route } from "@/lib/http/route";
import { changeFacts, isValidCursor, searchChanges } from "@/lib/history/search";
import { FIXED_ENTITY_TYPES } from "@/lib/history/entity-types";

// GET /api/v1/changes — the JSON API (docs/api.md): a portal's changes for BI tools and scripts, authenticated by an
// API token an admin created, newest first, paginated by `next` cursor. Values are as stored (machine-readable);
// bad parameters are a 400 naming the parameter.
const Query = z
  .strictObject({
    entityType: z
      .string()
      .regex(new RegExp(`^(${FIXED_ENTITY_TYPES.join("|")}|dynamic_\\d+)$`), "a CRM type key")
      .optional(),
    entityId: z.coerce.number().int().positive().optional(),
    field: z.string().min(1).max(100).optional(),
    userId: z.coerce.number().int().positive().optional(),
    source: z.enum(["event", "revert", "backfill", "reconciled", "stagehistory"]).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(200).refine(isValidCursor, "not a cursor this API gave").optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .refine((q) => q.entityId === undefined || q.entityType !== undefined, {
    message: "entityId needs entityType",
    path: ["entityId"],
  });

export const GET = route({ auth: authenticateApiRequest, query: Query }, async ({ session: caller, query: q }) => {
  const { items, next } = await searchChanges(caller.portalId, {
    ...q,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
  });
  return Response.json(
    {
      items: items.map((c) => ({
        id: String(c.id),
        ...changeFacts(c),
        source: c.source,
        mergedFrom: c.mergedFrom?.toISOString() ?? null,
      })),
      next,
    },
    { headers: { "cache-control": "no-store" } },
  );
});
