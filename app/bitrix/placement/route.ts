import { frameHandoff } from "@/lib/auth/handoff";
import { toErrorResponse } from "@/lib/http-errors";

// POST /bitrix/placement — every placement and widget (CRM tabs, toolbar buttons).
export async function POST(req: Request) {
  try {
    return await frameHandoff(req, null);
  } catch (error) {
    return toErrorResponse(error);
  }
}
