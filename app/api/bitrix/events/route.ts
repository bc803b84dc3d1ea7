import { readBitrixForm } from "@/lib/bitrix/form-parser";
import { acceptEvent } from "@/lib/events/accept";
import { toErrorResponse } from "@/lib/http-errors";

// POST /api/bitrix/events — every event Bitrix24 pushes (form-encoded, PHP bracket keys).
export async function POST(req: Request) {
  try {
    return Response.json(await acceptEvent(await readBitrixForm(req)));
  } catch (error) {
    return toErrorResponse(error);
  }
}
