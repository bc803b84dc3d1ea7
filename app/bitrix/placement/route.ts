import { frameHandoff } from "@/lib/auth/handoff";
import { route } from "@/lib/http/route";

// POST /bitrix/placement — every placement and widget (CRM tabs, toolbar buttons).
export const POST = route({}, ({ req }) => frameHandoff(req, null));
