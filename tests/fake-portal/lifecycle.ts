import { eventBody, mintTokens, postForm, revokePortalTokens, crmWrite, fireEvent } from "./core";
import { asList, fileDescriptor } from "./methods-files";
import { httpBuildQuery } from "./php";
import type { CrmRecord, Entity, FakeBitrix, PortalState } from "./types";

// Portal-admin flows (install, finish, uninstall, update) and what a portal page POSTs into an app frame.

export const installUrl = (fake: FakeBitrix) => `${fake.app.appUrl}/api/bitrix/install`;
export const appPageUrl = (fake: FakeBitrix) => `${fake.app.appUrl}/bitrix/app`;

/**
 * The form fields + query a portal page POSTs into an app iframe (docs/bitrix24.md#frame-post). Bitrix24's core posts
 * AUTH_ID, AUTH_EXPIRES, REFRESH_ID, member_id, status, PLACEMENT and PLACEMENT_OPTIONS only when not empty
 * (bitrix-core-business modules/rest/install/components/bitrix/app.layout/templates/.default/template.php; the same
 * body is b24phpsdk's capture in tests/Unit/Application/Requests/Placement/PlacementRequestTest.php). Only newer docs
 * pages (b24restdocs settings/oauth/simple-way.md) add SERVER_ENDPOINT, APPLICATION_TOKEN, APPLICATION_SCOPE: `rich`.
 */
type FrameForm = {
  AUTH_ID: string;
  AUTH_EXPIRES: string;
  REFRESH_ID: string;
  member_id: string;
  status: string;
  PLACEMENT: string;
} & Record<string, string>;

export function frameAuth(
  fake: FakeBitrix,
  portal: PortalState,
  userId: number,
  placement = "DEFAULT",
  options: Record<string, unknown> = {},
  lang = "en",
  rich = fake.richForms ?? false,
) {
  const t = mintTokens(fake, portal, userId);
  const appSid = Math.random().toString(16).slice(2).padEnd(32, "0").slice(0, 32);
  const serverSide: Record<string, string> = rich
    ? {
        SERVER_ENDPOINT: `${fake.oauthUrl}/rest/`,
        APPLICATION_TOKEN: portal.app.applicationToken,
        APPLICATION_SCOPE: fake.app.scopes.join(","),
      }
    : {};
  const form: FrameForm = {
    AUTH_ID: t.access,
    AUTH_EXPIRES: "3600",
    REFRESH_ID: t.refresh,
    ...serverSide,
    member_id: portal.memberId,
    status: portal.app.status,
    PLACEMENT: placement,
  };
  // Json::encode escapes "/" as "\/"; the rich form keeps the key even when empty, as the fake always did.
  if (rich || Object.keys(options).length) form.PLACEMENT_OPTIONS = JSON.stringify(options).replace(/\//g, "\\/");
  return {
    query: { DOMAIN: portal.domain, PROTOCOL: "0", LANG: lang, APP_SID: appSid },
    form,
    frameName: `${portal.domain}|0|${appSid}`,
  };
}

export function withQuery(url: string, query: Record<string, string>) {
  const u = new URL(url);
  Object.entries(query).forEach(([k, v]) => u.searchParams.set(k, v));
  return u.toString();
}

export interface InstallOptions {
  /** post the richer installer form (SERVER_ENDPOINT, APPLICATION_TOKEN, APPLICATION_SCOPE) */
  rich?: boolean;
  /** when ONAPPINSTALL reaches the install handler relative to the installer form: default after it */
  onAppInstall?: "before" | "after" | "none";
}

export async function install(
  fake: FakeBitrix,
  portal: PortalState,
  mode: "event" | "ui",
  finish: boolean,
  opts: InstallOptions = {},
) {
  portal.app.installed = true;
  portal.app.disabled = false;
  portal.app.installEventSent = false;
  if (mode === "event") {
    portal.app.finished = true;
    return sendInstallEvent(fake, portal);
  }
  portal.app.finished = false;
  const when = opts.onAppInstall ?? "after";
  const before = when === "before" ? await sendInstallEvent(fake, portal) : null;
  const f = frameAuth(fake, portal, 1, "DEFAULT", {}, "en", opts.rich ?? fake.richForms ?? false);
  const r = await postForm(withQuery(installUrl(fake), f.query), new URLSearchParams(f.form).toString());
  if (finish) portal.app.finished = true;
  const after = when === "after" ? await sendInstallEvent(fake, portal) : null;
  return { ...r, installEvent: before ?? after };
}

/**
 * ONAPPINSTALL, "triggered immediately after the successful installation" with the application_token "which is
 * important to save", to the handler set in the version card (b24restdocs api-reference/common/events/
 * on-app-install.md); `data[INSTALLED]=N` while the app is "not fully installed" (same page). Also for apps with an
 * installer page: the core form carries no application_token, this event does. Once per installation; the installer
 * flow sends it after the installer form (or at installFinish in the browser).
 */
export async function sendInstallEvent(fake: FakeBitrix, portal: PortalState) {
  if (portal.app.installEventSent) return null;
  portal.app.installEventSent = true;
  const data = {
    VERSION: String(portal.app.version),
    ACTIVE: "Y",
    INSTALLED: portal.app.finished ? "Y" : "N",
    LANGUAGE_ID: "en",
  };
  const body = httpBuildQuery({
    event: "ONAPPINSTALL",
    data,
    ts: String(fake.clock.nowSec()),
    auth: eventAuthForInstall(fake, portal),
  });
  return postForm(installUrl(fake), body);
}

function eventAuthForInstall(fake: FakeBitrix, portal: PortalState) {
  const body = new URLSearchParams(eventBody(fake, portal, "ONAPPINSTALL", null, 1, 0));
  return Object.fromEntries([...body].filter(([k]) => k.startsWith("auth[")).map(([k, v]) => [k.slice(5, -1), v]));
}

export async function uninstall(fake: FakeBitrix, portal: PortalState, clean: boolean) {
  const handlers = portal.bindings.filter((b) => b.event === "ONAPPUNINSTALL" && !b.offline);
  const deliveries = handlers.map((b) =>
    postForm(
      b.handler,
      eventBody(fake, portal, "ONAPPUNINSTALL", { LANGUAGE_ID: "en", CLEAN: clean ? "1" : "0" }, null, b.id),
    ),
  );
  // What Bitrix24 removes on uninstall: event handlers, widgets; app data only with CLEAN (docs/bitrix24.md#install).
  Object.assign(portal.app, { installed: false, finished: false, installEventSent: false });
  portal.bindings = [];
  portal.placements = [];
  portal.offline = [];
  if (clean) portal.app.options = {};
  revokePortalTokens(fake, portal);
  return Promise.all(deliveries);
}

/**
 * A new app version. "When an application is deleted or updated, its actions will be removed. Therefore, they must
 * be set from scratch in the installer of each version" (b24restdocs api-reference/events/event-bind.md): the event
 * handlers go, ONAPPUPDATE goes to the handler bound before. `userId: null` is an update with no user behind it:
 * `auth` then carries no tokens at all (core.ts eventAuth), only application_token and the addresses.
 */
export async function update(fake: FakeBitrix, portal: PortalState, version: number, userId: number | null = 1) {
  const previous = portal.app.version;
  portal.app.version = version;
  const handlers = portal.bindings.filter((b) => b.event === "ONAPPUPDATE" && !b.offline);
  portal.bindings = [];
  const data = { VERSION: String(version), PREVIOUS_VERSION: String(previous), LANGUAGE_ID: "en" };
  return Promise.all(
    handlers.map((b) => postForm(b.handler, eventBody(fake, portal, "ONAPPUPDATE", data, userId, b.id))),
  );
}

export async function confirmMethod(fake: FakeBitrix, portal: PortalState, method: string, confirmed: boolean) {
  const name = method.toLowerCase();
  const pending = [...portal.confirmations]
    .filter(([k, v]) => k.endsWith(`|${name}`) && v === "pending")
    .map(([k]) => k);
  const sends: Promise<unknown>[] = [];
  for (const key of pending) {
    portal.confirmations.set(key, confirmed ? "confirmed" : "denied");
    const token = key.slice(0, key.lastIndexOf("|"));
    for (const b of portal.bindings.filter((x) => x.event === "ONAPPMETHODCONFIRM" && !x.offline)) {
      sends.push(
        postForm(
          b.handler,
          eventBody(
            fake,
            portal,
            "ONAPPMETHODCONFIRM",
            { TOKEN: token, METHOD: name, CONFIRMED: confirmed ? "1" : "0", LANGUAGE_ID: "en" },
            null,
            b.id,
          ),
        ),
      );
    }
  }
  await Promise.all(sends);
  return pending.length;
}

/**
 * A user adds (id null), edits or deletes a record in the portal UI: the store changes and the CRM event fires. A file
 * the user uploads into a file field is given as {fileData: [name, base64]} and kept as an upload keeps it
 * (methods-files.ts storeCrmFile: its name and bytes apart from the field's value).
 */
export function editAsUser(
  fake: FakeBitrix,
  portal: PortalState,
  entity: Entity,
  id: number | null,
  fields: CrmRecord,
  userId: number,
  action: "add" | "update" | "delete" = "update",
): number {
  if (id !== null && !portal.crm[entity].has(id)) throw new Error(`no ${entity} ${id}`);
  return crmWrite(fake, portal, entity, id === null ? "add" : action, id, uploaded(portal, entity, fields), userId);
}

/** File fields' {fileData: [name, base64]} values stored as uploads; any other value is set as given. */
function uploaded(portal: PortalState, entity: Entity, fields: CrmRecord): CrmRecord {
  const out: CrmRecord = { ...fields };
  for (const [k, v] of Object.entries(fields)) {
    if (portal.fields[entity][k]?.type !== "file" || v === null || v === "") continue;
    const store = (x: unknown) =>
      (x as { fileData?: unknown } | null)?.fileData ? fileDescriptor({ portal }, k, x) : x;
    out[k] = Array.isArray(v) ? asList(v).map(store) : store(v);
  }
  return out;
}

export { fireEvent };
