import { toErrorResponse } from "@/lib/http-errors";
import { renderMetrics } from "@/lib/metrics/prometheus";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    return new Response(await renderMetrics(), { headers: { "content-type": "text/plain; version=0.0.4" } });
  } catch (error) {
    return toErrorResponse(error);
  }
}
