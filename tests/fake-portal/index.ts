import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { boxHost, boxRefuses, makeBox, type BoxOptions } from "./box";
import { FakeClock } from "./clock";
import { handleControl } from "./control";
import { hex, movedLocation } from "./core";
import { seedItems } from "./items-store";
import { handleOAuth } from "./oauth";
import { handleRest } from "./rest";
import { FIELDS, prng, seedRecord, seedUsers } from "./seed";
import { ENTITIES, type Entity, type FakeBitrix, type PortalState } from "./types";
import { handleUi } from "./ui";
import { RecordMap } from "./id-index";

// The fake Bitrix24 (docs/fake-portal.md): one OAuth server and N portals, each on its own loopback port.
// Public helpers for the browser UI and tests: lifecycle.ts (frameAuth, install, uninstall, update, confirmMethod,
// editAsUser), core.ts (mintTokens, fireEvent, crmWrite).

export interface FakeOptions {
  port?: number;
  oauthPort?: number;
  portals?: number;
  app: { clientId: string; clientSecret: string; appUrl: string; version?: number; scopes?: string[] };
  seed?: Partial<Record<"deals" | "contacts" | "companies" | "leads", number>>;
  latencyMs?: [number, number];
  /** every portal is a self-hosted Bitrix24 (box.ts) */
  box?: true | BoxOptions;
}

export interface RunningFake {
  fake: FakeBitrix;
  oauthUrl: string;
  portals: { memberId: string; domain: string; baseUrl: string; clientEndpoint: string }[];
  stop(): Promise<void>;
}

const SEED_KEYS: Record<Entity, "deals" | "contacts" | "companies" | "leads"> = {
  deal: "deals",
  contact: "contacts",
  company: "companies",
  lead: "leads",
};

function newPortal(index: number, opts: FakeOptions, fake: FakeBitrix): PortalState {
  const rand = prng(1000 + index);
  const crm = {} as PortalState["crm"];
  const nextId = {} as PortalState["nextId"];
  const at = fake.clock.iso(Date.UTC(2026, 0, 1));
  for (const e of ENTITIES) {
    const n = opts.seed?.[SEED_KEYS[e]] ?? (e === "deal" ? 100 : 20);
    crm[e] = new RecordMap(); // sorted ids cached between lists (id-index.ts)
    for (let id = 1; id <= n; id++) crm[e].set(id, seedRecord(e, id, rand, at));
    nextId[e] = n + 1;
  }
  const portal: PortalState = {
    index,
    memberId: hex(),
    port: 0,
    baseUrl: "",
    domain: "",
    clientEndpoint: "",
    users: seedUsers(),
    crm,
    nextId,
    fields: structuredClone(FIELDS),
    app: {
      installed: false,
      finished: false,
      version: opts.app.version ?? 1,
      applicationToken: hex(),
      options: {},
      status: "L",
      license: "pro",
      paymentExpired: false,
      disabled: false,
      lastOfflineNotifyAt: 0,
    },
    bindings: [],
    nextBindingId: 1,
    placements: [],
    offline: [],
    nextOfflineId: 1,
    bucket: { burst: 50, drain: 2, level: 0, at: Date.now() },
    operating: new Map(),
    operatingLimit: 480,
    methodOverrides: new Map(),
    confirmations: new Map(),
    features: { rest_offline_extended: "Y", rest_auth_connector: "Y" },
    rights: { denyRead: new Set(), denyWrite: new Set() },
    faults: { script: [], fail503: 0, latencyMs: [0, 0], dropEvents: 0, duplicateEvents: 0, methodErrors: {} },
    webhook: { userId: 1, secret: hex(8) },
    disk: { files: new Map(), nextId: 1, uploads: new Map(), templates: [], crmFiles: new Map() },
    timeline: [],
    log: [],
    counters: {
      rest: {},
      served503: 0,
      refreshes: 0,
      refreshAttempts: 0,
      eventsDelivered: 0,
      eventsDropped: 0,
      logSeq: 0,
    },
    items: undefined as unknown as PortalState["items"],
  };
  seedItems(fake, portal); // quotes, invoices, the "Projects" smart process, product rows, stage history
  return portal;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw; // a Drive upload's bytes (rest.ts finishUpload)
  return raw.toString("utf8");
}

function portalHandler(fake: FakeBitrix, portal: PortalState) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    // nginx in front of Bitrix24 merges slashes (merge_slashes on): the SDK's "/rest//method" reaches "/rest/method".
    const url = new URL(
      (req.url ?? "/").replace(/^([^?]*)/, (p) => p.replace(/\/{2,}/g, "/")),
      portal.baseUrl,
    );
    const body = await readBody(req);
    const entry = {
      n: ++portal.counters.logSeq,
      at: Date.now(),
      method: req.method ?? "GET",
      path: url.pathname,
      status: 0,
    } as PortalState["log"][number];
    if (url.pathname.startsWith("/rest/"))
      entry.rest = url.pathname.replace(/^\/rest\/(api\/|\d+\/[^/]+\/)?/, "").replace(/\.json$/, "");
    if (!url.pathname.startsWith("/_fake/")) portal.log.push(entry);
    res.on("finish", () => {
      entry.status = res.statusCode;
    });
    const moved = url.pathname.startsWith("/rest/") ? movedLocation(portal, req.headers.host, req.url ?? "/") : null;
    if (moved) return void res.writeHead(302, { location: moved }).end(); // a former address (core.ts movePortal)
    if (boxRefuses(portal, url.pathname, res)) return;
    if (url.pathname.startsWith("/rest/")) return handleRest(fake, portal, req, res, url, body);
    if (url.pathname.startsWith("/oauth/")) return handleOAuth(fake, req, res, url, body);
    if (url.pathname.startsWith("/_fake/")) return handleControl(fake, portal, req.method ?? "GET", url, body, res);
    return handleUi(req, res, { portal, fake, baseUrl: portal.baseUrl, body });
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFakeBitrix(opts: FakeOptions): Promise<RunningFake> {
  const fake: FakeBitrix = {
    app: {
      clientId: opts.app.clientId,
      clientSecret: opts.app.clientSecret,
      appUrl: opts.app.appUrl.replace(/\/$/, ""),
      scopes: opts.app.scopes ?? ["crm", "placement", "user_brief", "disk", "im"],
    },
    clock: new FakeClock(),
    portals: [],
    oauthUrl: "",
    tokens: new Map(),
    refreshTokens: new Map(),
    codes: new Map(),
    latencyMs: opts.latencyMs ?? [0, 0],
  };
  const servers: Server[] = [];
  const oauthServer = createServer(
    (req, res) =>
      void readBody(req).then((b) =>
        handleOAuth(fake, req, res, new URL(req.url ?? "/", fake.oauthUrl || "http://x"), b),
      ),
  );
  servers.push(oauthServer);
  fake.oauthUrl = `http://127.0.0.1:${await listen(oauthServer, opts.oauthPort ?? 0)}`;
  for (let i = 0; i < (opts.portals ?? 1); i++) {
    const portal = newPortal(i, opts, fake);
    const server = createServer(portalHandler(fake, portal));
    servers.push(server);
    portal.port = await listen(server, opts.port ? opts.port + i * 2 : 0);
    portal.domain = opts.box ? boxHost(portal.port) : `127.0.0.1:${portal.port}`;
    if (opts.box) makeBox(portal, opts.box);
    portal.baseUrl = `http://${portal.domain}`;
    portal.clientEndpoint = `${portal.baseUrl}/rest/`;
    fake.portals.push(portal);
  }
  return {
    fake,
    oauthUrl: fake.oauthUrl,
    portals: fake.portals.map((p) => ({
      memberId: p.memberId,
      domain: p.domain,
      baseUrl: p.baseUrl,
      clientEndpoint: p.clientEndpoint,
    })),
    stop: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      ).then(() => undefined),
  };
}
