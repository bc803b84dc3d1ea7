import { statusesOf } from "./methods-status";
import type { CrmRecord, PortalState } from "./types";

// A deal moved to another funnel (sales pipeline). Bitrix24 raises ONCRMDEALMOVETOCATEGORY for it, with the new
// CATEGORY_ID and STAGE_ID in data.FIELDS, and NOT ONCRMDEALUPDATE (b24restdocs crm/deals/events/index.md: "Moving
// a deal to another funnel does not trigger the event onCrmDealUpdate — it is tracked only by the event
// onCrmDealMoveToCategory"; payload: crm/deals/events/on-crm-deal-move-to-category.md). A stage change within the
// funnel stays an ordinary update. A deal lands on a stage of its new funnel: the one given if it belongs there, else
// the funnel's first stage (stages of funnel n are DEAL_STAGE_n, ids `C<n>:…`; funnel 0's are DEAL_STAGE).

const stageEntity = (category: string) => (category === "0" ? "DEAL_STAGE" : `DEAL_STAGE_${category}`);

/**
 * The fields of an update that moves the deal `prev` to another funnel, its stage set to one of that funnel; null
 * when the update does not change the funnel.
 */
export function dealMove(portal: PortalState, prev: CrmRecord, fields: CrmRecord): CrmRecord | null {
  if (!("CATEGORY_ID" in fields)) return null;
  const category = String(fields.CATEGORY_ID ?? "0") || "0";
  if (category === String(prev.CATEGORY_ID ?? "0")) return null;
  const stage = fields.STAGE_ID === undefined ? null : String(fields.STAGE_ID);
  const stages = statusesOf(portal).filter((s) => s.ENTITY_ID === stageEntity(category));
  const first = [...stages].sort((a, b) => a.SORT - b.SORT)[0]?.STATUS_ID ?? `C${category}:NEW`;
  const fits = stage !== null && stages.some((s) => s.STATUS_ID === stage);
  return { ...fields, CATEGORY_ID: category, STAGE_ID: fits ? stage : first };
}

/** data of ONCRMDEALMOVETOCATEGORY: the deal's ID, its new funnel and stage, as strings like every event field. */
export const moveEventData = (id: number, moved: CrmRecord) => ({
  FIELDS: { ID: String(id), CATEGORY_ID: String(moved.CATEGORY_ID), STAGE_ID: String(moved.STAGE_ID) },
});
