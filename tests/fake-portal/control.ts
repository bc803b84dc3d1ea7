import type { ServerResponse } from "node:http";
import { movePortal, revokePortalTokens } from "./core";
import { handleItemControl } from "./control-items";
import { armHold, listHolds, releaseHold } from "./holds";
import {
  confirmMethod,
  editAsUser,
  frameAuth,
  install,
  sendInstallEvent,
  uninstall,
  update,
  type InstallOptions,
} from "./lifecycle";
import type { Entity, FakeBitrix, PortalState } from "./types";

// The control and inspection API for tests and demos (docs/fake-portal.md): /_fake/* on each portal's listener.
type Body = Record<string, unknown>;
type Handler = (fake: FakeBitrix, portal: PortalState, body: Body, url: URL) => unknown;

function state(fake: FakeBitrix, p: PortalState) {
  return {
    memberId: p.memberId,
    domain: p.domain,
    baseUrl: p.baseUrl,
    clientEndpoint: p.clientEndpoint,
    oauthUrl: fake.oauthUrl,
    app: p.app,
    users: [...p.users.values()],
    bindings: p.bindings,
    placements: p.placements,
    offlineQueue: p.offline.length,
    clock: fake.clock.iso(),
    features: p.features,
    bucket: p.bucket,
    webhookUrl: `${p.baseUrl}/rest/${p.webhook.userId}/${p.webhook.secret}/`,
  };
}

const ROUTES: Record<string, Handler> = {
  "GET /_fake/state": (f, p) => state(f, p),
  "POST /_fake/install": (f, p, b) =>
    install(f, p, b.mode === "event" ? "event" : "ui", Boolean(b.finish), {
      rich: b.rich === undefined ? undefined : Boolean(b.rich),
      onAppInstall: b.onAppInstall as InstallOptions["onAppInstall"],
    }),
  "POST /_fake/install-finish": async (f, p) => {
    p.app.finished = true;
    await sendInstallEvent(f, p);
    return true;
  },
  "POST /_fake/uninstall": (f, p, b) => uninstall(f, p, Boolean(b.clean)),
  "POST /_fake/update": (f, p, b) =>
    update(f, p, Number(b.version ?? p.app.version + 1), b.userId === null ? null : Number(b.userId ?? 1)),
  // A token helper for tests: the richer form (a superset of the core's) unless `form: "core"`.
  "POST /_fake/frame-auth": (f, p, b) => {
    const a = frameAuth(
      f,
      p,
      Number(b.userId ?? 1),
      String(b.placement ?? "DEFAULT"),
      (b.options ?? {}) as Record<string, unknown>,
      String(b.lang ?? "en"),
      b.form !== "core",
    );
    return { ...a.query, ...a.form, frameName: a.frameName };
  },
  "POST /_fake/forms": (f, _p, b) => {
    f.richForms = Boolean(b.rich);
    return { rich: f.richForms };
  },
  "POST /_fake/move": (_f, p, b) => movePortal(p, b.host === undefined ? undefined : String(b.host)),
  "POST /_fake/tokens/expire": (f, p) => {
    for (const t of f.tokens.values()) if (t.portal === p) t.expiresAtMs = 0;
    return true;
  },
  "POST /_fake/revoke": (f, p) => {
    p.app.disabled = true;
    revokePortalTokens(f, p);
    return true;
  },
  "POST /_fake/plan": (_f, p, b) => {
    if (b.license) p.app.license = String(b.license);
    if (b.license === "ent250") Object.assign(p.bucket, { burst: 250, drain: 5 });
    if (b.burst !== undefined) p.bucket.burst = Number(b.burst);
    if (b.drain !== undefined) p.bucket.drain = Number(b.drain);
    if (b.paymentExpired !== undefined) p.app.paymentExpired = Boolean(b.paymentExpired);
    if (b.operatingLimit !== undefined) p.operatingLimit = Number(b.operatingLimit);
    return { bucket: p.bucket, license: p.app.license, paymentExpired: p.app.paymentExpired };
  },
  "POST /_fake/faults": (_f, p, b) => Object.assign(p.faults, b),
  "POST /_fake/hold": (_f, p, b) =>
    armHold(p, String(b.method), b.contains === undefined ? undefined : String(b.contains)),
  "GET /_fake/holds": (_f, p) => listHolds(p),
  "POST /_fake/release": (_f, p, b) => releaseHold(p, String(b.method), b.outcome === "drop" ? "drop" : "run"),
  "POST /_fake/methods": (_f, p, b) => {
    const name = String(b.name).toLowerCase();
    p.methodOverrides.set(name, { ...p.methodOverrides.get(name), ...(b as object) });
    return p.methodOverrides.get(name);
  },
  "POST /_fake/rights": (_f, p, b) => {
    const key = `${Number(b.userId)}:${String(b.entity)}:${Number(b.id)}`;
    for (const [flag, set] of [
      ["read", p.rights.denyRead],
      ["write", p.rights.denyWrite],
    ] as const) {
      if (b[flag] === false) set.add(key);
      else if (b[flag] === true) set.delete(key);
    }
    return { denyRead: [...p.rights.denyRead], denyWrite: [...p.rights.denyWrite] };
  },
  "POST /_fake/features": (_f, p, b) => {
    p.features[String(b.code)] = String(b.value);
    return p.features;
  },
  "POST /_fake/confirm": (f, p, b) => confirmMethod(f, p, String(b.method), Boolean(b.confirmed)),
  "POST /_fake/bindings/delete": (_f, p, b) => {
    const before = p.bindings.length;
    p.bindings = p.bindings.filter((x) => b.event && x.event !== String(b.event).toUpperCase());
    return { removed: before - p.bindings.length };
  },
  "POST /_fake/clock": (f, _p, b) => {
    f.clock.advance(Number(b.advance ?? 0));
    return f.clock.iso();
  },
  "GET /_fake/log": (_f, p, _b, url) => p.log.filter((e) => e.n > Number(url.searchParams.get("since") ?? 0)),
  "GET /_fake/counters": (_f, p) => ({ ...p.counters, bucketLevel: p.bucket.level }),
  "POST /_fake/reset-counters": (_f, p) => {
    Object.assign(p.counters, {
      rest: {},
      served503: 0,
      refreshes: 0,
      refreshAttempts: 0,
      eventsDelivered: 0,
      eventsDropped: 0,
    });
    p.log.length = 0;
    return true;
  },
  "GET /_fake/crm": (_f, p, _b, url) =>
    p.crm[(url.searchParams.get("entity") ?? "deal") as Entity].get(Number(url.searchParams.get("id"))) ?? null,
  "GET /_fake/timeline": (_f, p) => p.timeline,
  "GET /_fake/offline": (_f, p) => p.offline,
};

export async function handleControl(
  fake: FakeBitrix,
  portal: PortalState,
  method: string,
  url: URL,
  body: string,
  res: ServerResponse,
) {
  const send = (status: number, payload: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload ?? null));
  const crm = /^\/_fake\/crm\/(deal|contact|company|lead)\/(\d+|new)$/.exec(url.pathname);
  try {
    const parsed = body ? (JSON.parse(body) as Body) : {};
    if (crm && (method === "POST" || method === "DELETE")) {
      const entity = crm[1] as Entity;
      const id = editAsUser(
        fake,
        portal,
        entity,
        crm[2] === "new" ? null : Number(crm[2]),
        (parsed.fields ?? {}) as Record<string, unknown>,
        Number(parsed.userId ?? 1),
        method === "DELETE" ? "delete" : "update",
      );
      return send(200, { id, record: portal.crm[entity].get(id) ?? null });
    }
    const items = handleItemControl(fake, portal, method, url, parsed); // control-items.ts
    if (items) return send(200, items.value);
    const route = ROUTES[`${method} ${url.pathname.replace(/\/$/, "")}`];
    if (!route) return send(404, { error: `no control route ${method} ${url.pathname}` });
    send(200, await route(fake, portal, parsed, url));
  } catch (e) {
    send(400, { error: e instanceof Error ? e.message : String(e) });
  }
}
