// Data for bench 6.3 (tab query latency): FieldChange rows inserted directly, as years of live capture would leave
// them — one record with many changes among a table of other records' changes (same portal, other entity types,
// another portal), fields and users skewed the way real edits are (a few fields and users make most changes), ids in
// time order (captured live), so one record's changes are spread over the whole table, not packed together.
// Deterministic (setseed) so two databases get the same data.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { getDb } from "@/lib/db";
import { FIELDS } from "../tests/fake-portal/seed";

/** Deal fields, most edited first: field i gets a share ∝ the density of floor(20 · u²). */
export const SEED_FIELDS = [
  "STAGE_ID",
  "OPPORTUNITY",
  "ASSIGNED_BY_ID",
  "TITLE",
  "COMMENTS",
  "CLOSEDATE",
  "UF_CRM_AMOUNT",
  "UF_CRM_TEXT",
  "UF_CRM_BUDGET",
  "CONTACT_ID",
  "UF_CRM_DUE",
  "UF_CRM_SOURCE",
  "COMPANY_ID",
  "UF_CRM_TAGS",
  "UF_CRM_MEETING",
  "UF_CRM_VIP",
  "CURRENCY_ID",
  "UF_CRM_CURATOR",
  "UF_CRM_PARTNER",
  "UF_CRM_CONTRACT",
];
export const SEED_USERS = 40;
export const TARGET_ID = 50_000;
const OTHER_IDS = 200_000;

export interface Seeded {
  portalId: string;
  otherPortalId: string;
  rows: number;
  target: number;
}

async function portalRow(label: string) {
  const memberId = randomBytes(16).toString("hex");
  const p = await getDb().portal.create({
    data: {
      memberId,
      domain: `${label}.bitrix24.test`,
      clientEndpoint: `https://${label}.bitrix24.test/rest/`,
      serverEndpoint: "https://oauth.bitrix.info/rest/",
      installStage: "finished",
    },
  });
  return p.id;
}

/** `rows` changes in all, `target` of them on deal TARGET_ID of the first portal; 10 % of the rest on another portal. */
export async function seedChanges(url: string, rows: number, target: number): Promise<Seeded> {
  const portalId = await portalRow("bench-history");
  const otherPortalId = await portalRow("bench-history-other");
  const fields = `ARRAY[${SEED_FIELDS.map((f) => `'${f}'`).join(",")}]`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("SELECT setseed(0.42)"); // per session: the same connection inserts every chunk
  // Rows come in time order (ids grow with changedAt, as live capture writes them); every stride-th row is the target's.
  const stride = Math.max(1, Math.floor(rows / target));
  const chunk = 250_000; // bounded statements keep PGlite's memory flat
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1);
    await c.query(
      `
      INSERT INTO "FieldChange" ("portalId", "entityType", "entityId", field, "oldValue", "newValue", "changedById", "changedAt", source, "createdAt")
      SELECT portal, etype, CASE WHEN NOT tgt AND portal = $1 AND etype = 'deal' AND eid = $4 THEN eid + $5 ELSE eid END,
             field, to_jsonb(oldv), to_jsonb(newv), uid, at, 'event', at
      FROM (SELECT tgt, CASE WHEN tgt OR random() >= 0.1 THEN $1 ELSE $2 END AS portal,
                   CASE WHEN tgt THEN 'deal' ELSE (ARRAY['deal','deal','deal','deal','deal','deal','contact','contact','company','lead'])[1 + floor(random() * 10)::int] END AS etype,
                   CASE WHEN tgt THEN $4 ELSE 1 + floor(random() * $5)::int END AS eid,
                   (${fields})[1 + floor(${SEED_FIELDS.length} * power(random(), 2))::int] AS field,
                   1 + floor(${SEED_USERS} * power(random(), 3))::int AS uid,
                   date_trunc('milliseconds', timestamp '2024-11-24' + ((g + random()) / $8::float) * interval '730 days') AS at,
                   'value ' || floor(random() * 100000)::int AS oldv, 'value ' || floor(random() * 100000)::int AS newv
            FROM (SELECT g, g % $9 = 0 AND g / $9 <= $3 AS tgt FROM generate_series($6::int, $7::int) g) gs) s`,
      [portalId, otherPortalId, target, TARGET_ID, OTHER_IDS, from, to, rows, stride],
    );
  }
  // Steady state, as autovacuum keeps a live table: statistics and the visibility map (index-only scans) are current.
  await c.query(`VACUUM ANALYZE "FieldChange"`);
  await c.end();
  return { portalId, otherPortalId, rows, target };
}

/** What presentChanges reads: the portal's field labels (the fake's crm.deal.fields) and the users' names. */
export async function seedLabels(portalId: string): Promise<void> {
  const db = getDb();
  await db.crmFieldMeta.create({ data: { portalId, entityType: "deal", fields: FIELDS.deal as object } });
  await db.userNameCache.createMany({
    data: Array.from({ length: SEED_USERS }, (_, i) => ({ portalId, userId: i + 1, name: `User ${i + 1}` })),
  });
}
