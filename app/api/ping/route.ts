import { FORM_LIMITS } from "@/lib/bitrix/form-parser";
import { readBodyLimited } from "@/lib/http/read-body";
import { route } from "@/lib/http/route";

// A bare route: no database, no parsing. Liveness probe, and the baseline the ingestion benchmark compares to (so it
// reads a body as the event route does, cut at the same limit).
export function GET() {
  return new Response("ok");
}

export const POST = route({}, async ({ req }) => {
  await readBodyLimited(req, FORM_LIMITS.maxBytes);
  return new Response("ok");
});
