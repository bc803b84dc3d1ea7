import "server-only";
import { BitrixError, type BitrixClient } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import {
  FEATURES,
  OPTIONAL_METHODS,
  OPTIONAL_SCOPES,
  REQUIRED_METHODS,
  REQUIRED_SCOPES,
} from "@/lib/lifecycle/registry";

// Capability probe (seed: scope, method.get isExisting/isAvailable, feature.get). Nothing assumes cloud/box parity:
// a box portal's own methods are found by method.get, never assumed. Missing required items fail fast with a
// diagnostic an admin can read; missing optional ones only disable what the registry says.

export interface Problem {
  level: "error" | "warning";
  item: string;
  message: string;
}
/**
 * A self-hosted Bitrix24 answers feature.get with `<lang>_selfhosted` when none of its modules answers for the code
 * (core modules/rest/classes/general/rest_provider.php getFeature): not "Y", so the feature is treated as off.
 */
const SELF_HOSTED = /^[a-z]{2}_selfhosted$/;

export interface Capabilities {
  scopes: string[];
  methods: Record<string, { isExisting: boolean; isAvailable: boolean }>;
  features: Record<string, string>;
  problems: Problem[];
}

export async function probeCapabilities(client: BitrixClient): Promise<Capabilities> {
  const names = [...Object.keys(REQUIRED_METHODS), ...Object.keys(OPTIONAL_METHODS)];
  const cmds = Object.fromEntries([
    ["scope", ["scope", {}]],
    ...names.map((m, i) => [`m${i}`, ["method.get", { name: m }]]),
    ...Object.keys(FEATURES).map((f) => [`f_${f}`, ["feature.get", { CODE: f }]]),
  ]) as Record<string, [string, Record<string, unknown>]>;
  const res = await client.batch(cmds, { lane: "interactive", idempotent: true });
  // A failed `scope` or `method.get` command is not "nothing granted": the probe fails rather than report problems
  // that are not there. A failed `feature.get` reads as "off" (portals without the feature, box editions, answer so).
  const failed = Object.entries(res.errors).find(([key]) => !key.startsWith("f_"));
  if (failed)
    throw new BitrixError(
      failed[1].error || "ERROR_WITHOUT_CODE",
      0,
      failed[1].error_description,
      failed[0] === "scope" ? "scope" : "method.get",
    );
  const scopes = Array.isArray(res.result.scope) ? (res.result.scope as string[]) : [];
  const methods = Object.fromEntries(
    names.map((m, i) => {
      const r = (res.result[`m${i}`] ?? {}) as { isExisting?: boolean; isAvailable?: boolean };
      return [m, { isExisting: Boolean(r.isExisting), isAvailable: Boolean(r.isAvailable) }];
    }),
  );
  const features = Object.fromEntries(
    Object.keys(FEATURES).map((f) => [
      f,
      String((res.result[`f_${f}`] as { value?: string } | undefined)?.value ?? "N"),
    ]),
  );
  return { scopes, methods, features, problems: findProblems(scopes, methods, features) };
}

export function findProblems(
  scopes: string[],
  methods: Capabilities["methods"],
  features: Record<string, string>,
): Problem[] {
  const problems: Problem[] = [];
  for (const s of REQUIRED_SCOPES)
    if (!scopes.includes(s))
      problems.push({
        level: "error",
        item: `scope:${s}`,
        message: `Scope "${s}" is not granted: grant it in the app settings and reinstall`,
      });
  for (const [s, what] of Object.entries(OPTIONAL_SCOPES))
    if (!scopes.includes(s))
      problems.push({ level: "warning", item: `scope:${s}`, message: `Scope "${s}" missing — disabled: ${what}` });
  for (const [m, what] of Object.entries(REQUIRED_METHODS)) {
    const c = methods[m];
    if (!c?.isExisting || !c.isAvailable)
      problems.push({
        level: "error",
        item: `method:${m}`,
        message: `${m} is ${c?.isExisting ? "not available" : "missing"} on this portal — needed for: ${what}`,
      });
  }
  for (const [m, what] of Object.entries(OPTIONAL_METHODS)) {
    const c = methods[m];
    if (!c?.isExisting || !c.isAvailable)
      problems.push({ level: "warning", item: `method:${m}`, message: `${m} unavailable — disabled: ${what}` });
  }
  for (const [f, what] of Object.entries(FEATURES)) {
    if (features[f] === "Y") continue;
    const why = SELF_HOSTED.test(features[f] ?? "")
      ? `not offered by this self-hosted Bitrix24 (feature.get answered "${features[f]}")`
      : "off";
    problems.push({ level: "warning", item: `feature:${f}`, message: `${f} is ${why} — ${what}` });
  }
  return problems;
}

/** True only when the last probe found `method` absent on the portal (a box without the module or its version). */
export async function portalLacks(portalId: string, method: string): Promise<boolean> {
  const profile = await getDb().capabilityProfile.findUnique({ where: { portalId }, select: { methods: true } });
  const entry = (profile?.methods as Capabilities["methods"] | undefined)?.[method];
  return entry?.isExisting === false;
}

export async function saveCapabilities(portalId: string, c: Capabilities) {
  const data = {
    scopes: c.scopes,
    methods: c.methods,
    features: c.features,
    problems: c.problems as unknown as object,
    fetchedAt: new Date(),
  };
  await getDb().capabilityProfile.upsert({ where: { portalId }, create: { portalId, ...data }, update: data });
}

/** The admin page's matrix from the stored probe: each scope granted or not, each method and feature usable or not. */
export function capabilityMatrix(
  profile: { scopes: unknown; methods: unknown; features: unknown; problems: unknown } | null,
) {
  const scopes = (profile?.scopes ?? []) as string[];
  const methods = (profile?.methods ?? {}) as Capabilities["methods"];
  const features = (profile?.features ?? {}) as Record<string, string>;
  const problems = (profile?.problems ?? []) as { item?: string; message?: string }[];
  return {
    scopes: [
      ...REQUIRED_SCOPES.map((s) => ({ scope: s, required: true, granted: scopes.includes(s) })),
      ...Object.keys(OPTIONAL_SCOPES).map((s) => ({ scope: s, required: false, granted: scopes.includes(s) })),
    ],
    capabilities: [
      ...Object.entries({ ...REQUIRED_METHODS, ...OPTIONAL_METHODS }).map(([m, disables]) => ({
        item: m,
        required: m in REQUIRED_METHODS,
        ok: Boolean(methods[m]?.isExisting && methods[m]?.isAvailable),
        disables,
      })),
      // The probe's message says why a feature is off (a self-hosted portal answers `<lang>_selfhosted`).
      ...Object.entries(FEATURES).map(([f, disables]) => ({
        item: f,
        required: false,
        ok: features[f] === "Y",
        disables: problems.find((p) => p.item === `feature:${f}`)?.message ?? disables,
      })),
    ],
  };
}
