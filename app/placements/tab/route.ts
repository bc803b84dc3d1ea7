import { servePlacementPage } from "@/lib/history/pages";
import { toErrorResponse } from "@/lib/http-errors";

// GET /placements/tab — the Change history tab on a CRM card (CRM_<ENTITY>_DETAIL_TAB), reached by the 303 from
// POST /bitrix/placement. Server-rendered HTML without a client framework (decision 009).
export async function GET(req: Request) {
  try {
    return await servePlacementPage(req, "tab");
  } catch (error) {
    return toErrorResponse(error);
  }
}
