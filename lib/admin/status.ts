import type { AdminOverview } from "@/lib/admin/overview";

// The admin page's first line (issue #17 item 5): all is well, or the one thing the admin must do first and where
// the button for it is. Pure: what is wrong is read from the overview the page already loaded, most urgent first.
export type StatusKey =
  | "statusStopped"
  | "statusReauth"
  | "statusTokens"
  | "statusAppConfig"
  | "statusScopes"
  | "statusBindings"
  | "statusConfirm"
  | "statusDead"
  | "statusAllWell";
export interface AdminStatus {
  tone: "ok" | "warn" | "bad";
  key: StatusKey;
  anchor: string | null;
  detail?: string;
}

export function adminStatus(
  o: Pick<AdminOverview, "portal" | "alerts" | "scopes" | "bindings" | "pending">,
  deadEvents: number,
): AdminStatus {
  if (o.portal.status === "payment_required" || o.portal.status === "disabled") {
    return { tone: "bad", key: "statusStopped", anchor: null, detail: o.portal.terminalReason ?? o.portal.status };
  }
  if (o.portal.status === "needs_reauth") return { tone: "bad", key: "statusReauth", anchor: null };
  if (o.portal.tokensProblem) return { tone: "bad", key: "statusTokens", anchor: null };
  if (o.alerts.length)
    return { tone: "bad", key: "statusAppConfig", anchor: null, detail: o.alerts.map((a) => a.code).join(", ") };
  const missing = o.scopes.filter((s) => s.required && !s.granted).map((s) => s.scope);
  if (missing.length) return { tone: "bad", key: "statusScopes", anchor: "#scopes", detail: missing.join(", ") };
  const broken = o.bindings.filter((b) => !b.actual).length;
  if (broken) return { tone: "bad", key: "statusBindings", anchor: "#bindings", detail: String(broken) };
  const waiting = o.pending.filter((p) => p.status === "pending").length;
  if (waiting) return { tone: "warn", key: "statusConfirm", anchor: "#confirmations", detail: String(waiting) };
  if (deadEvents) return { tone: "warn", key: "statusDead", anchor: "#coverage", detail: String(deadEvents) };
  return { tone: "ok", key: "statusAllWell", anchor: null };
}
