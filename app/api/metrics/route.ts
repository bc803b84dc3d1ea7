import { safeEqual } from "@/lib/crypto";
import { loadEnv } from "@/lib/env";
import { route } from "@/lib/http/route";
import { AppError } from "@/lib/http-errors";
import { renderMetrics } from "@/lib/metrics/prometheus";

export const dynamic = "force-dynamic";

// GET /api/metrics — Prometheus text format. With METRICS_TOKEN set, only for `Authorization: Bearer <token>`.
export const GET = route({}, async ({ req }) => {
  const expected = loadEnv().METRICS_TOKEN;
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  if (expected && !safeEqual(given, expected))
    throw new AppError(401, "unauthorized", "GET /api/metrics needs Authorization: Bearer <METRICS_TOKEN>");
  return new Response(await renderMetrics(), { headers: { "content-type": "text/plain; version=0.0.4" } });
});
