import "server-only";
import { z } from "zod";
import type { Prisma } from "@prisma/client";
import { getDb } from "@/lib/db";
import type { RestLogRow } from "@/lib/bitrix/rest-log";

// The admin's view of the REST log (lib/bitrix/rest-log.ts): their own portal's calls, newest first, a page at a
// time by keyset (at, id) so a page never shifts while new calls are logged.

const blankIsUnset = (v: unknown) => (v === "" || v === null ? undefined : v);

export const RestLogQuerySchema = z.object({
  /** a method or its beginning: `crm.deal` finds crm.deal.list, crm.deal.update, … */
  method: z.preprocess(
    blankIsUnset,
    z
      .string()
      .trim()
      .max(100)
      .regex(/^[\w.:-]+$/, "must be a method name")
      .optional(),
  ),
  /** an HTTP status (0: no answer), or `error` for every failed call */
  status: z.preprocess(blankIsUnset, z.union([z.literal("error"), z.coerce.number().int().min(0).max(599)]).optional()),
  /** the `next` cursor of the previous page */
  before: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^\d{1,15}\.\d{1,19}$/, "must be a cursor from `next`")
      .optional(),
  ),
  limit: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(100).default(50)),
});
export type RestLogQuery = z.infer<typeof RestLogQuerySchema>;

export type RestLogEntry = Omit<RestLogRow, "at" | "portalId" | "memberId"> & { id: string; at: string };

const cursorOf = (e: { at: Date; id: bigint }) => `${e.at.getTime()}.${e.id}`;

function keyset(before: string | undefined): Prisma.RestLogWhereInput {
  if (!before) return {};
  const [ms, id] = before.split(".");
  const at = new Date(Number(ms));
  return { OR: [{ at: { lt: at } }, { at, id: { lt: BigInt(id!) } }] };
}

export interface RestLogPage {
  entries: RestLogEntry[];
  next: string | null;
}
/** no answer, an HTTP error, or an error in a 200 body (an OAuth refusal) */
const FAILED: Prisma.RestLogWhereInput = {
  OR: [{ status: 0 }, { status: { gte: 400 } }, { errorCode: { not: null } }],
};

export async function searchRestLog(portalId: string, q: RestLogQuery): Promise<RestLogPage> {
  const rows = await getDb().restLog.findMany({
    where: {
      AND: [
        { portalId }, // only the session's portal, whatever the query says
        q.method ? { method: { startsWith: q.method } } : {},
        q.status === "error" ? FAILED : q.status !== undefined ? { status: q.status } : {},
        keyset(q.before),
      ],
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: q.limit + 1,
  });
  const page = rows.slice(0, q.limit);
  return {
    entries: page.map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      method: r.method,
      host: r.host,
      lane: r.lane,
      status: r.status,
      durationMs: r.durationMs,
      errorCode: r.errorCode,
      params: r.params,
      response: r.response,
    })),
    next: rows.length > q.limit ? cursorOf(page.at(-1)!) : null,
  };
}
