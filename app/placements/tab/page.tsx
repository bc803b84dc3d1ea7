import { placementPage, type SearchParams } from "@/components/placements/placement-page";

export const dynamic = "force-dynamic";

// GET /placements/tab — the Change history tab on a CRM card (CRM_<ENTITY>_DETAIL_TAB), reached by the 303 from
// POST /bitrix/placement.
export default function TabPage({ searchParams }: { searchParams: SearchParams }) {
  return placementPage(searchParams, "tab");
}
