import { readBitrixForm } from "@/lib/bitrix/form-parser";
import { acceptEvent } from "@/lib/events/accept";
import { route } from "@/lib/http/route";

// POST /api/bitrix/events — every event Bitrix24 pushes (form-encoded, PHP bracket keys).
export const POST = route({}, async ({ req }) => Response.json(await acceptEvent(await readBitrixForm(req))));
