import { eventBody, mintTokens, postForm, revokePortalTokens, crmWrite, fireEvent } from "./core";
import { httpBuildQuery } from "./php";
import type { CrmRecord, Entity, FakeBitrix, PortalState } from "./types";

// Portal-admin flows (install, finish, uninstall, update) and what a portal page POSTs into an app frame.

export const installUrl = (fake: FakeBitrix) => `${fake.app.appUrl}/api/bitrix/install`;
export const appPageUrl = (fake: FakeBitrix) => `${fake.app.appUrl}/bitrix/app`;

/** The form fields + query a portal page POSTs into an app iframe (CONTRACTS.md §1.2, §11). */
export function frameAuth(fake: FakeBitrix, portal: PortalState, userId: number, placement = "DEFAULT", options: Record<string, unknown> = {}, lang = "en") {
  const t = mintTokens(fake, portal, userId);
  const appSid = Math.random().toString(16).slice(2).padEnd(32, "0").slice(0, 32);
  return {
    query: { DOMAIN: portal.domain, PROTOCOL: "0", LANG: lang, APP_SID: appSid },
    form: { AUTH_ID: t.access, AUTH_EXPIRES: "3600", REFRESH_ID: t.refresh, SERVER_ENDPOINT: `${fake.oauthUrl}/rest/`, APPLICATION_TOKEN: portal.app.applicationToken,
      APPLICATION_SCOPE: fake.app.scopes.join(","), member_id: portal.memberId, status: portal.app.status, PLACEMENT: placement,
      PLACEMENT_OPTIONS: JSON.stringify(options).replace(/\//g, "\\/") },
    frameName: `${portal.domain}|0|${appSid}`,
  };
}

export function withQuery(url: string, query: Record<string, string>) {
  const u = new URL(url);
  Object.entries(query).forEach(([k, v]) => u.searchParams.set(k, v));
  return u.toString();
}

export async function install(fake: FakeBitrix, portal: PortalState, mode: "event" | "ui", finish: boolean) {
  portal.app.installed = true;
  portal.app.disabled = false;
  if (mode === "event") {
    portal.app.finished = true;
    const body = httpBuildQuery({ event: "ONAPPINSTALL", data: { VERSION: String(portal.app.version), ACTIVE: "Y", INSTALLED: "Y", LANGUAGE_ID: "en" },
      ts: String(fake.clock.nowSec()), auth: eventAuthForInstall(fake, portal) });
    return postForm(installUrl(fake), body);
  }
  portal.app.finished = false;
  const f = frameAuth(fake, portal, 1);
  const r = await postForm(withQuery(installUrl(fake), f.query), new URLSearchParams(f.form).toString());
  if (finish) portal.app.finished = true;
  return r;
}

function eventAuthForInstall(fake: FakeBitrix, portal: PortalState) {
  const body = new URLSearchParams(eventBody(fake, portal, "ONAPPINSTALL", null, 1, 0));
  return Object.fromEntries([...body].filter(([k]) => k.startsWith("auth[")).map(([k, v]) => [k.slice(5, -1), v]));
}

export async function uninstall(fake: FakeBitrix, portal: PortalState, clean: boolean) {
  const handlers = portal.bindings.filter((b) => b.event === "ONAPPUNINSTALL" && !b.offline);
  const deliveries = handlers.map((b) => postForm(b.handler, eventBody(fake, portal, "ONAPPUNINSTALL", { LANGUAGE_ID: "en", CLEAN: clean ? "1" : "0" }, null, b.id)));
  // What Bitrix24 removes on uninstall: event handlers, widgets; app data only with CLEAN (CONTRACTS.md §2.1).
  Object.assign(portal.app, { installed: false, finished: false });
  portal.bindings = [];
  portal.placements = [];
  portal.offline = [];
  if (clean) portal.app.options = {};
  revokePortalTokens(fake, portal);
  return Promise.all(deliveries);
}

export async function update(fake: FakeBitrix, portal: PortalState, version: number) {
  const previous = portal.app.version;
  portal.app.version = version;
  const handlers = portal.bindings.filter((b) => b.event === "ONAPPUPDATE" && !b.offline);
  // "When an application is deleted or updated, its actions will be removed" (CONTRACTS.md §9): the app must rebind.
  portal.bindings = [];
  return Promise.all(handlers.map((b) => postForm(b.handler, eventBody(fake, portal, "ONAPPUPDATE", { VERSION: String(version), PREVIOUS_VERSION: String(previous), LANGUAGE_ID: "en" }, 1, b.id))));
}

export async function confirmMethod(fake: FakeBitrix, portal: PortalState, method: string, confirmed: boolean) {
  const name = method.toLowerCase();
  const pending = [...portal.confirmations].filter(([k, v]) => k.endsWith(`|${name}`) && v === "pending").map(([k]) => k);
  const sends: Promise<unknown>[] = [];
  for (const key of pending) {
    portal.confirmations.set(key, confirmed ? "confirmed" : "denied");
    const token = key.slice(0, key.lastIndexOf("|"));
    for (const b of portal.bindings.filter((x) => x.event === "ONAPPMETHODCONFIRM" && !x.offline)) {
      sends.push(postForm(b.handler, eventBody(fake, portal, "ONAPPMETHODCONFIRM", { TOKEN: token, METHOD: name, CONFIRMED: confirmed ? "1" : "0", LANGUAGE_ID: "en" }, null, b.id)));
    }
  }
  await Promise.all(sends);
  return pending.length;
}

/** A user adds (id null), edits or deletes a record in the portal UI: the store changes and the CRM event fires. */
export function editAsUser(fake: FakeBitrix, portal: PortalState, entity: Entity, id: number | null, fields: CrmRecord, userId: number, action: "add" | "update" | "delete" = "update"): number {
  if (id !== null && !portal.crm[entity].has(id)) throw new Error(`no ${entity} ${id}`);
  return crmWrite(fake, portal, entity, id === null ? "add" : action, id, fields, userId);
}

export { fireEvent };
