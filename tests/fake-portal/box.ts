import type { ServerResponse } from "node:http";
import { E, RestError } from "./errors";
import type { MethodTable } from "./rest-types";
import type { PortalState } from "./types";

// A self-hosted ("box", on-premise) Bitrix24 (docs/fake-portal.md "Self-hosted (box) portals"). Cloud and box run
// the same rest module; what differs here is what a box without the cloud's `bitrix24` module answers (core
// modules/rest/classes/general/rest_provider.php appInfo / getFeature, modules/rest/lib/api/event.php), which
// modules and module versions its owner installed (b24restdocs settings/cloud-and-on-premise/on-premise/versions.md),
// the methods its own modules add (…/on-premise/custom-methods.md), and its address and network
// (…/on-premise/index.md).

export interface BoxOptions {
  /** the installation's LANGUAGE_ID: app.info LICENSE and an unanswered feature.get are `<lang>_selfhosted` */
  lang?: string;
  /** modules the owner did not install (or removed): their methods and scopes do not exist. Default: disk */
  absentModules?: string[];
  /** methods of module versions newer than the box's: method.get isExisting false, a call ERROR_METHOD_NOT_FOUND */
  absentMethods?: string[];
  /** REST 3.0 at /rest/api/ — a rest module that predates it has no such address. Default false */
  restV3?: boolean;
}

export interface BoxState {
  lang: string;
  absentModules: Set<string>;
  absentMethods: Set<string>;
  restV3: boolean;
}

const boxes = new WeakMap<PortalState, BoxState>();
export const boxOf = (portal: PortalState): BoxState | undefined => boxes.get(portal);

/** An intranet host name, not `<name>.bitrix24.<tld>`: the company's own domain (here: `localhost:<port>`). */
export const boxHost = (port: number) => `localhost:${port}`;

/**
 * Makes a portal a box. Its features start with no answer: feature.get asks the `onRestGetFeature` handlers of the
 * installed modules, and with none it answers `<lang>_selfhosted` (core getFeature). `POST /_fake/features` plays a
 * module that does answer (Y / N).
 */
export function makeBox(portal: PortalState, opts: BoxOptions | true) {
  const o = opts === true ? {} : opts;
  boxes.set(portal, {
    lang: o.lang ?? portal.lang ?? "en",
    absentModules: new Set(o.absentModules ?? ["disk"]),
    absentMethods: new Set((o.absentMethods ?? []).map((m) => m.toLowerCase())),
    restV3: o.restV3 ?? false,
  });
  portal.features = {};
}

/**
 * Methods a box's own module adds through OnRestServiceBuildDescription (b24restdocs on-premise/custom-methods.md):
 * `mycompany.ping` in `\CRestUtil::GLOBAL_SCOPE` ("available to all applications"), `mycompany.deal.audit` in the
 * module's own scope `mycompany`, which only a local app can be granted. Cloud portals have neither.
 */
export const CUSTOM_SCOPE = "mycompany";
const CUSTOM_METHODS: Record<string, string | null> = { "mycompany.ping": null, "mycompany.deal.audit": CUSTOM_SCOPE };
export const boxMethods: MethodTable = {
  "mycompany.ping": (ctx) => ({ pong: true, user: ctx.userId }),
  "mycompany.deal.audit": (_ctx, p) => ({ dealId: Number(p.id ?? 0), audited: true }),
};

const moduleOf = (method: string) => method.split(".")[0]!;

/** Whether `method` exists on this portal (cloud: every method but the box's own; box: per modules and versions). */
export function boxHasMethod(portal: PortalState, method: string): boolean {
  const box = boxOf(portal);
  if (!box) return !(method in CUSTOM_METHODS);
  return !box.absentModules.has(moduleOf(method)) && !box.absentMethods.has(method);
}

/** The scope of a box's own method, or undefined for every other method. */
export const customScopeOf = (method: string): string | null | undefined => CUSTOM_METHODS[method];

/** Scopes that exist on this portal: a box without a module has no scope of it, and has its modules' own scopes. */
export function boxScopes(portal: PortalState, scopes: string[], full: boolean): string[] {
  const box = boxOf(portal);
  if (!box) return scopes;
  return [...scopes.filter((s) => !box.absentModules.has(s)), ...(full ? [CUSTOM_SCOPE] : [])];
}

/** app.info's license part: a box has no `bitrix24` module, so `<lang>_selfhosted` and no LICENSE_TYPE/FAMILY. */
export function boxLicense(portal: PortalState): { LICENSE: string } | null {
  const box = boxOf(portal);
  return box ? { LICENSE: `${box.lang}_selfhosted` } : null;
}

/** feature.get with no module answering: `<lang>_selfhosted` on a box (core getFeature), `N` on a cloud portal. */
export function unansweredFeature(portal: PortalState): string {
  const box = boxOf(portal);
  return box ? `${box.lang}_selfhosted` : "N";
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));

/**
 * Addresses a box does not serve; true when it answered. `/oauth/token/` at the portal: the cloud proxies it to the
 * OAuth server, "whereas Bitrix24 Self-Hosted may not do this" (b24restdocs on-premise/index.md) — this one does
 * not (its `/oauth/authorize/`, where a user signs in, stays). `/rest/api/`: a rest module without REST 3.0 takes
 * `api/<method>` for a method name it does not know.
 */
export function boxRefuses(portal: PortalState, path: string, res: ServerResponse): boolean {
  const box = boxOf(portal);
  if (!box) return false;
  if (path.startsWith("/oauth/token")) {
    return (json(res, 404, { error: "not_found", error_description: "Not found" }), true);
  }
  if (path.startsWith("/rest/api/") && !box.restV3) {
    const e: RestError = E.notFound();
    return (json(res, e.status, { error: e.error, error_description: e.description }), true);
  }
  return false;
}
