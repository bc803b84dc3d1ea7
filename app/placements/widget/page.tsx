import { placementPage, type SearchParams } from "@/components/placements/placement-page";

export const dynamic = "force-dynamic";

// GET /placements/widget — the toolbar widget (CRM_DEAL_DETAIL_TOOLBAR): the record's last five changes.
export default function WidgetPage({ searchParams }: { searchParams: SearchParams }) {
  return placementPage(searchParams, "widget");
}
