import "server-only";
import { getDb } from "@/lib/db";

// GET /api/metrics in Prometheus text format: binding health, auth failures, inbox and offline queue state, REST
// retries and rate-limit hits. Labels carry portal ids, never member ids, domains or tokens.
const line = (name: string, labels: Record<string, string>, value: number | bigint) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/"/g, "")}"`)
    .join(",")}} ${value}`;

export async function renderMetrics(): Promise<string> {
  const db = getDb();
  const hour = new Date(Date.now() - 3600_000);
  const [bindings, failures, inbox, samples, globals, portals, claims] = await Promise.all([
    db.bindingState.groupBy({ by: ["portalId", "actual"], where: { expected: true }, _count: true }),
    db.authFailure.groupBy({ by: ["portalId"], _sum: { count: true } }),
    db.eventInbox.groupBy({ by: ["portalId", "status"], _count: true, _min: { receivedAt: true } }),
    db.metricSample.groupBy({ by: ["portalId", "name"], where: { minute: { gte: hour } }, _sum: { value: true } }),
    db.globalCounter.findMany(),
    db.portal.groupBy({ by: ["status"], _count: true }),
    db.offlineClaim.groupBy({ by: ["portalId", "status"], _count: true }),
  ]);
  const out = ["# TYPE b24_portals gauge", ...portals.map((p) => line("b24_portals", { status: p.status }, p._count))];
  out.push(
    "# TYPE b24_bindings gauge",
    ...bindings.map((b) =>
      line("b24_bindings", { portal: b.portalId, state: b.actual ? "bound" : "missing" }, b._count),
    ),
  );
  // Refusals kept for the retention window (lib/metrics/auth-failures.ts): old minutes are pruned, so a gauge.
  const refused = failures.map((f) => line("b24_auth_failures", { portal: f.portalId }, f._sum.count ?? 0));
  out.push("# TYPE b24_auth_failures gauge", ...refused);
  const alerts = globals.filter((g) => g.name.startsWith("alert:"));
  out.push(
    ...globals.filter((g) => !alerts.includes(g)).map((g) => line("b24_global_total", { name: g.name }, g.value)),
  );
  // App-wide configuration alerts (lib/portals/alerts.ts): present while raised, gone once a grant succeeds.
  out.push(
    "# TYPE b24_config_alert gauge",
    ...alerts.map((g) => line("b24_config_alert", { code: g.name.slice("alert:".length) }, g.value)),
  );
  out.push(
    "# TYPE b24_inbox_events gauge",
    ...inbox.map((i) => line("b24_inbox_events", { portal: i.portalId, status: i.status }, i._count)),
  );
  const now = Date.now();
  out.push(
    "# TYPE b24_inbox_lag_seconds gauge",
    ...inbox
      .filter((i) => i.status === "pending" && i._min.receivedAt)
      .map((i) =>
        line("b24_inbox_lag_seconds", { portal: i.portalId }, Math.round((now - i._min.receivedAt!.getTime()) / 1000)),
      ),
  );
  out.push(
    "# TYPE b24_offline_batches gauge",
    ...claims.map((c) => line("b24_offline_batches", { portal: c.portalId, status: c.status }, c._count)),
  );
  out.push(
    "# TYPE b24_last_hour gauge",
    ...samples.map((s) => line("b24_last_hour", { portal: s.portalId, name: s.name }, s._sum.value ?? 0)),
  );
  return `${out.join("\n")}\n`;
}
