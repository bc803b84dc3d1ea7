import { frameHandoff } from "@/lib/auth/handoff";
import { toErrorResponse } from "@/lib/http-errors";

// POST /bitrix/app — the app's main page (the admin settings page) as Bitrix24 opens it.
export async function POST(req: Request) {
  try {
    return await frameHandoff(req, "DEFAULT");
  } catch (error) {
    return toErrorResponse(error);
  }
}
