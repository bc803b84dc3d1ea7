import { frameHandoff } from "@/lib/auth/handoff";
import { route } from "@/lib/http/route";

// POST /bitrix/app — the app's main page (the admin settings page) as Bitrix24 opens it.
export const POST = route({}, ({ req }) => frameHandoff(req, "DEFAULT"));
