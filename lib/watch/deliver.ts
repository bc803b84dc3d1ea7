import "server-only";
import { BitrixError, bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { entityTypeIdOf } from "@/lib/history/entity-types";
import { presentChanges } from "@/lib/history/present";
import { recordHeading } from "@/lib/history/value-context";
import { dict } from "@/lib/i18n";
import type { Delivery } from "@/lib/watch/match";

// Job `watch.deliver` (lib/watch/match.ts queues it with the changes): one batch request for what a capture batch
// owes — im.notify.personal.add per notification (b24restdocs chats/notifications/im-notify-personal-add.md, scope
// `im`) and crm.automation.trigger.execute per rule trigger and record (crm/automation/triggers/*.md). A notification's
// TAG names the rule, record, field and instant: a retried job replaces its earlier copy instead of adding a second.
// Values read as in the tab (present.ts), in the rule author's language; times in UTC (no user time zone here).
// The portal's notification settings are read at delivery (docs/watch-rules.md "Notification settings"): a job queued
// before a pause tells nobody, and without values a text names the field only.
const COMMANDS_PER_BATCH = 50;

const DETAIL_PATHS: Record<string, string> = {
  deal: "/crm/deal/details/",
  contact: "/crm/contact/details/",
  company: "/crm/company/details/",
  lead: "/crm/lead/details/",
};

function detailPath(entityType: string, id: number): string {
  const legacy = DETAIL_PATHS[entityType];
  return legacy ? `${legacy}${id}/` : `/crm/type/${entityTypeIdOf(entityType)}/details/${id}/`;
}

/** The notifications' texts, read as the tab reads them: one presentChanges per type, one heading per record. */
async function messages(
  portalId: string,
  ds: Delivery[],
  origin: string | null,
  showValues: boolean,
): Promise<Map<Delivery, string>> {
  const out = new Map<Delivery, string>();
  const headings = new Map<string, Promise<{ type: string; title: string | null }>>();
  const groups = new Map<string, Delivery[]>();
  for (const d of ds) groups.set(`${d.entityType}|${d.lang}`, [...(groups.get(`${d.entityType}|${d.lang}`) ?? []), d]);
  for (const group of groups.values()) {
    const { entityType, lang } = group[0]!;
    const rows = await presentChanges(
      portalId,
      entityType,
      group.map((d, i) => ({
        id: BigInt(i),
        entityId: d.entityId,
        field: d.field,
        oldValue: d.oldValue,
        newValue: d.newValue,
        changedById: d.changedById,
        changedAt: new Date(d.changedAt),
      })),
      lang,
    );
    for (const [i, d] of group.entries()) {
      const key = `${entityType}|${d.entityId}|${lang}`;
      if (!headings.has(key)) headings.set(key, recordHeading(portalId, entityType, d.entityId, lang));
      const heading = await headings.get(key)!;
      const row = rows[i]!;
      const name = `${heading.type} #${d.entityId}${heading.title ? ` · ${heading.title}` : ""}`;
      const record = origin ? `[URL=${origin}${detailPath(entityType, d.entityId)}]${name}[/URL]` : name;
      const what = showValues ? `${row.oldValue || "—"} → ${row.newValue || "—"}` : dict(lang).watchValueHidden;
      out.set(
        d,
        `${dict(lang).watchFired.replace("{rule}", d.ruleName)}: ${record} — ${row.field}: ${what} (${row.who}, ${row.changedAt})`,
      );
    }
  }
  return out;
}

export async function runWatchDelivery(portalId: string, payload: { deliveries?: Delivery[] }) {
  const portal = await getDb().portal.findUnique({
    where: { id: portalId },
    select: { status: true, clientEndpoint: true, watchPaused: true, watchShowValues: true },
  });
  if (!portal || portal.status !== "active") return "skipped";
  const deliveries = (payload.deliveries ?? []).filter((d) => !(portal.watchPaused && d.to));
  if (!deliveries.length) return { notified: 0, triggered: 0 };
  let origin: string | null = null;
  try {
    origin = new URL(portal.clientEndpoint).origin;
  } catch {
    /* names without links */
  }
  const commands: [string, Record<string, unknown>][] = [];
  const triggered = new Set<string>();
  const texts = await messages(
    portalId,
    deliveries.filter((d) => d.to),
    origin,
    portal.watchShowValues,
  );
  for (const d of deliveries) {
    if (d.to) {
      commands.push([
        "im.notify.personal.add",
        {
          USER_ID: d.to,
          MESSAGE: texts.get(d)!,
          TAG: `chb|${d.ruleId}|${d.entityType}|${d.entityId}|${d.field}|${Date.parse(d.changedAt)}`,
        },
      ]);
    }
    const key = `${d.triggerCode}|${d.entityType}|${d.entityId}`;
    if (d.triggerCode && !triggered.has(key)) {
      triggered.add(key);
      commands.push([
        "crm.automation.trigger.execute",
        { CODE: d.triggerCode, OWNER_TYPE_ID: entityTypeIdOf(d.entityType), OWNER_ID: d.entityId },
      ]);
    }
  }
  const client = await bitrixFor(portalId);
  for (let i = 0; i < commands.length; i += COMMANDS_PER_BATCH) {
    const chunk = Object.fromEntries(commands.slice(i, i + COMMANDS_PER_BATCH).map((c, k) => [`c${i + k}`, c]));
    const res = await client.batch(chunk);
    const [failed] = Object.entries(res.errors);
    if (failed)
      throw new BitrixError(
        failed[1].error || "BATCH_COMMAND_FAILED",
        0,
        failed[1].error_description,
        chunk[failed[0]]![0],
      );
  }
  return { notified: deliveries.filter((d) => d.to).length, triggered: triggered.size };
}
