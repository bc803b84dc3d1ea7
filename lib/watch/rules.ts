import "server-only";
import { randomUUID } from "node:crypto";
import type { Prisma } from "@prisma/client";
import { z } from "zod";
import { bitrixFor } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { ENTITY_KEY_PATTERN } from "@/lib/history/entity-types";
import { AppError } from "@/lib/http-errors";

// Watch rules (issue #17 item 4, docs/watch-rules.md). Any user may watch for themselves ("tell me when Stage or
// Amount changes on deals I am responsible for"); an admin may add portal rules that tell each record's responsible
// person, and may offer a Bitrix24 automation trigger ("Change History: …") that robots and workflows react to — the
// trigger is registered with crm.automation.trigger.add when the rule is made and removed with it.
export const MAX_RULES_PER_PORTAL = 2_000;

export const RuleInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  entityType: z
    .string()
    .regex(ENTITY_KEY_PATTERN, "a CRM type key (deal, contact, company, lead, quote, smart_invoice, dynamic_<id>)"),
  fields: z.array(z.string().min(1).max(100)).max(50).default([]),
  condition: z.enum(["changed", "cleared"]).default("changed"),
  onlyMine: z.boolean().default(false),
  scope: z.enum(["personal", "portal"]).default("personal"),
  /** portal rules: omitted, the portal's default (watchNotifyResponsibleDefault, set on the admin page) */
  notifyResponsible: z.boolean().optional(),
  trigger: z.boolean().default(false),
});
export type RuleInput = z.infer<typeof RuleInputSchema>;

interface Author {
  portalId: string;
  userId: number;
  isAdmin: boolean;
  lang: string;
}

export async function createRule(author: Author, input: RuleInput) {
  if (input.scope === "portal" && !author.isAdmin)
    throw new AppError(403, "forbidden", "Only portal administrators can add rules for the whole portal");
  const db = getDb();
  const notifyResponsible =
    input.notifyResponsible ??
    (input.scope === "portal" &&
      (
        await db.portal.findUniqueOrThrow({
          where: { id: author.portalId },
          select: { watchNotifyResponsibleDefault: true },
        })
      ).watchNotifyResponsibleDefault);
  if (input.scope === "personal" && (notifyResponsible || input.trigger)) {
    throw new AppError(
      400,
      "invalid_request",
      "A personal rule notifies its author: notifyResponsible and trigger are for portal rules",
    );
  }
  if (input.scope === "portal" && !notifyResponsible && !input.trigger) {
    throw new AppError(400, "invalid_request", "A portal rule must notify the responsible person or run a trigger");
  }
  if ((await db.watchRule.count({ where: { portalId: author.portalId } })) >= MAX_RULES_PER_PORTAL) {
    throw new AppError(409, "too_many_rules", `A portal may have at most ${MAX_RULES_PER_PORTAL} watch rules`);
  }
  const id = randomUUID();
  let triggerCode: string | null = null;
  if (input.trigger) {
    // Latin letters, digits, ".", "-", "_" (crm-automation-trigger-add.md); registered with the app's (admin's) token.
    triggerCode = `chb_${id.replace(/-/g, "").slice(0, 12)}`;
    await (
      await bitrixFor(author.portalId)
    ).call(
      "crm.automation.trigger.add",
      { CODE: triggerCode, NAME: `Change History: ${input.name}`.slice(0, 255) },
      { lane: "interactive" },
    );
  }
  const [rule] = await db.$transaction([
    db.watchRule.create({
      data: {
        id,
        portalId: author.portalId,
        createdById: author.userId,
        scope: input.scope,
        name: input.name,
        entityType: input.entityType,
        fields: input.fields,
        condition: input.condition,
        onlyMine: input.onlyMine,
        notifyResponsible,
        triggerCode,
        lang: author.lang === "ru" ? "ru" : "en",
      },
    }),
    rulesChanged(author.portalId),
  ]);
  return rule;
}

/** What a list of rules shows of each: the admin page's card and the CRM tab's "Notify me…" read these. */
const RULE_ROW = {
  id: true,
  name: true,
  entityType: true,
  fields: true,
  condition: true,
  scope: true,
  notifyResponsible: true,
  triggerCode: true,
  onlyMine: true,
} satisfies Prisma.WatchRuleSelect;
export type RuleRow = Prisma.WatchRuleGetPayload<{ select: typeof RULE_ROW }>;

/** The rules a user sees: their own, and — for an admin — the portal's. */
export function listRules(author: Author): Promise<RuleRow[]> {
  return getDb().watchRule.findMany({
    select: RULE_ROW,
    orderBy: { createdAt: "desc" },
    where: { portalId: author.portalId, ...(author.isAdmin ? {} : { createdById: author.userId, scope: "personal" }) },
  });
}

/** Deletes a rule its author (or an admin) may delete; another portal's or another user's is "not found". */
export async function deleteRule(author: Author, id: string) {
  const db = getDb();
  const rule = await db.watchRule.findFirst({
    where: {
      id,
      portalId: author.portalId,
      ...(author.isAdmin ? {} : { createdById: author.userId, scope: "personal" }),
    },
  });
  if (!rule) throw new AppError(404, "not_found", "No such watch rule");
  if (rule.triggerCode) {
    await (
      await bitrixFor(author.portalId)
    ).call("crm.automation.trigger.delete", { CODE: rule.triggerCode }, { lane: "interactive" });
  }
  await db.$transaction([db.watchRule.delete({ where: { id } }), rulesChanged(author.portalId)]);
}

/** Every process's capture path reads the rules again at its next change (lib/watch/match.ts). */
const rulesChanged = (portalId: string) =>
  getDb().portal.update({
    where: { id: portalId },
    data: { watchRulesVersion: { increment: 1 } },
    select: { id: true },
  });
