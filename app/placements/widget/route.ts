import { servePlacementPage } from "@/lib/history/pages";
import { toErrorResponse } from "@/lib/http-errors";

// GET /placements/widget — the toolbar widget (CRM_DEAL_DETAIL_TOOLBAR): the record's last five changes.
export async function GET(req: Request) {
  try {
    return await servePlacementPage(req, "widget");
  } catch (error) {
    return toErrorResponse(error);
  }
}
