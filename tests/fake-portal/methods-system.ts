import { boxHasMethod, boxLicense, boxMethods, boxOf, boxScopes, customScopeOf, unansweredFeature } from "./box";
import { E } from "./errors";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { FakeUser } from "./types";

// app.info, scope, methods, method.get, feature.get, users, profile, app options (docs/bitrix24.md#capabilities); what
// a box answers instead (box.ts).
const scopeOf = (method: string) =>
  method.split(".")[0] === "crm"
    ? "crm"
    : method.startsWith("placement")
      ? "placement"
      : method.startsWith("disk")
        ? "disk"
        : method.startsWith("user")
          ? "user_brief"
          : method.startsWith("im.")
            ? "im"
            : null;

export function knownMethod(ctx: Ctx, name: string, table: MethodTable) {
  const o = ctx.portal.methodOverrides.get(name);
  const exists = o?.isExisting ?? (name in table && boxHasMethod(ctx.portal, name));
  const custom = customScopeOf(name);
  const scope = custom === undefined ? scopeOf(name) : custom;
  const available = exists && (o?.isAvailable ?? (scope === null || ctx.fake.app.scopes.includes(scope)));
  return { isExisting: exists, isAvailable: available };
}

// `user_brief` gives "user information without contact details" (b24restdocs api-reference/user/index.md): no EMAIL
// unless the app also has the `user` scope.
const userOut = (ctx: Ctx, u: FakeUser) => ({
  ID: u.ID,
  ACTIVE: u.ACTIVE,
  NAME: u.NAME,
  LAST_NAME: u.LAST_NAME,
  ...(ctx.fake.app.scopes.includes("user") ? { EMAIL: u.EMAIL } : {}),
  PERSONAL_GENDER: "",
  UF_DEPARTMENT: u.extranet ? [] : [1],
  USER_TYPE: u.extranet ? "extranet" : "employee",
});
const USER_PAGE = 50;
const ALL_SCOPES = ["crm", "placement", "user", "user_brief", "disk", "department", "entity", "im", "task", "log"];

/**
 * methods (deprecated, b24restdocs common/system/methods.md; core rest_provider.php methodsList): no parameters →
 * the methods of the app's scopes and the global scope, `full` → every method, `scope` → that scope's.
 */
function methodsList(ctx: Ctx, p: Record<string, unknown>, table: MethodTable) {
  const names = Object.keys(table).filter((n) => n !== "batch" && knownMethod(ctx, n, table).isExisting);
  if (p.scope !== undefined && String(p.scope) !== "") {
    return names.filter((n) => (customScopeOf(n) === undefined ? scopeOf(n) : customScopeOf(n)) === String(p.scope));
  }
  if (["1", "true", "Y"].includes(String(p.full))) return names;
  return names.filter((n) => knownMethod(ctx, n, table).isAvailable);
}

/** app.info (core rest_provider.php appInfo): a box answers LICENSE `<lang>_selfhosted` and no LICENSE_TYPE/FAMILY. */
function appInfo(ctx: Ctx) {
  const a = ctx.portal.app;
  const license = boxLicense(ctx.portal) ?? {
    LICENSE: `en_${a.license}`,
    LICENSE_TYPE: a.license,
    LICENSE_FAMILY: a.license.replace(/\d+$/, ""),
  };
  if (ctx.viaWebhook) return { SCOPE: ctx.fake.app.scopes, LICENSE: license.LICENSE };
  return {
    ID: 5,
    CODE: "local.changehistory",
    VERSION: a.version,
    STATUS: a.status,
    INSTALLED: a.finished,
    PAYMENT_EXPIRED: a.paymentExpired ? "Y" : "N",
    DAYS: null,
    LANGUAGE_ID: boxOf(ctx.portal)?.lang ?? "en",
    ...license,
  };
}

/**
 * user.get (api-reference/user/user-get.md; core rest/classes/general/rest_user.php userGet): the filter is FILTER, or
 * the top-level keys when FILTER is absent; an array value is IN. Pages are always 50 (`start` = offset; total/next).
 * No ACTIVE filter → dismissed users are returned too; `ACTIVE: true` excludes them. Extranet users are hidden from
 * an intranet caller who is not an admin (core: CExtranet::getMyGroupsUsersSimple — the fake has no groups).
 */
function userGet(ctx: Ctx, p: Record<string, unknown>) {
  const filter = (p.FILTER ?? p.filter ?? p) as Record<string, unknown>;
  const raw = filter.ID ?? filter.id ?? filter["@ID"];
  const list = raw === undefined || raw === null ? [] : typeof raw === "object" ? Object.values(raw) : [raw];
  const ids = list.map(Number);
  const active = filter.ACTIVE;
  const all = [...ctx.portal.users.values()].filter(
    (u) =>
      (!ids.length || ids.includes(Number(u.ID))) &&
      (active === undefined || String(active) === "" || u.ACTIVE === ["true", "Y", "1"].includes(String(active))) &&
      (ctx.isAdmin || !u.extranet),
  );
  const start = Math.max(0, Number(p.start ?? 0)) || 0;
  const next = start + USER_PAGE < all.length ? start + USER_PAGE : undefined;
  return new ListAnswer(
    all.slice(start, start + USER_PAGE).map((u) => userOut(ctx, u)),
    all.length,
    next,
  );
}

export const systemMethods = (table: () => MethodTable): MethodTable => ({
  "app.info": appInfo,
  scope: (ctx, p) => boxScopes(ctx.portal, p.full ? ALL_SCOPES : ctx.fake.app.scopes, Boolean(p.full)),
  methods: (ctx, p) => methodsList(ctx, p, table()),
  "method.get": (ctx, p) => knownMethod(ctx, String(p.name ?? "").toLowerCase(), table()),
  "feature.get": (ctx, p) => {
    if (!p.CODE) throw Object.assign(E.arg("CODE can't be empty"), { error: "CODE_EMPTY" });
    return { value: ctx.portal.features[String(p.CODE)] ?? unansweredFeature(ctx.portal) };
  },
  ...boxMethods,
  "user.current": (ctx) => userOut(ctx, ctx.portal.users.get(ctx.userId)!),
  "user.admin": (ctx) => ctx.portal.users.get(ctx.userId)!.ADMIN,
  "user.get": userGet,
  profile: (ctx) => {
    const u = ctx.portal.users.get(ctx.userId)!;
    return {
      ID: u.ID,
      ADMIN: u.ADMIN,
      NAME: u.NAME,
      LAST_NAME: u.LAST_NAME,
      PERSONAL_GENDER: "",
      TIME_ZONE: "",
      TIME_ZONE_OFFSET: 0,
    };
  },
  "server.time": (ctx) => ctx.fake.clock.iso(),
  "app.option.get": (ctx, p) =>
    p.option ? (ctx.portal.app.options[String(p.option)] ?? null) : ctx.portal.app.options,
  "app.option.set": (ctx, p) => {
    if (!ctx.isAdmin) throw E.denied();
    Object.assign(ctx.portal.app.options, p.options as Record<string, string>);
    return true;
  },
});
