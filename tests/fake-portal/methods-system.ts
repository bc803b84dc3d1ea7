import { E } from "./errors";
import type { Ctx, MethodTable } from "./rest-types";

// app.info, scope, method.get, feature.get, users, profile, app options (CONTRACTS.md §8).
const scopeOf = (method: string) => method.split(".")[0] === "crm" ? "crm" : method.startsWith("placement") ? "placement" : method.startsWith("disk") ? "disk" : method.startsWith("user") ? "user_brief" : null;

export function knownMethod(ctx: Ctx, name: string, table: MethodTable) {
  const o = ctx.portal.methodOverrides.get(name);
  const exists = o?.isExisting ?? name in table;
  const scope = scopeOf(name);
  const available = exists && (o?.isAvailable ?? (scope === null || ctx.fake.app.scopes.includes(scope)));
  return { isExisting: exists, isAvailable: available };
}

const userOut = (u: { ID: string; NAME: string; LAST_NAME: string; EMAIL: string; ACTIVE: boolean }) =>
  ({ ID: u.ID, ACTIVE: u.ACTIVE, NAME: u.NAME, LAST_NAME: u.LAST_NAME, EMAIL: u.EMAIL, PERSONAL_GENDER: "", UF_DEPARTMENT: [1] });

export const systemMethods = (table: () => MethodTable): MethodTable => ({
  "app.info": (ctx) => {
    if (ctx.viaWebhook) return { SCOPE: ctx.fake.app.scopes, LICENSE: ctx.portal.app.license };
    const a = ctx.portal.app;
    return { ID: 5, CODE: "local.changehistory", VERSION: a.version, STATUS: a.status, INSTALLED: a.finished, PAYMENT_EXPIRED: a.paymentExpired ? "Y" : "N",
      DAYS: null, LANGUAGE_ID: "en", LICENSE: `en_${a.license}`, LICENSE_TYPE: a.license, LICENSE_FAMILY: a.license.replace(/\d+$/, "") };
  },
  scope: (ctx, p) => (p.full ? ["crm", "placement", "user", "user_brief", "disk", "department", "entity", "im", "task", "log"] : ctx.fake.app.scopes),
  "method.get": (ctx, p) => knownMethod(ctx, String(p.name ?? "").toLowerCase(), table()),
  "feature.get": (ctx, p) => {
    if (!p.CODE) throw Object.assign(E.arg("CODE can't be empty"), { error: "CODE_EMPTY" });
    return { value: ctx.portal.features[String(p.CODE)] ?? "N" };
  },
  "user.current": (ctx) => userOut(ctx.portal.users.get(ctx.userId)!),
  "user.admin": (ctx) => ctx.portal.users.get(ctx.userId)!.ADMIN,
  "user.get": (ctx, p) => {
    const filter = (p.FILTER ?? p.filter ?? {}) as Record<string, unknown>;
    const ids = [p.ID ?? p.id ?? filter.ID].flat().filter((x) => x !== undefined).map(Number);
    return [...ctx.portal.users.values()].filter((u) => !ids.length || ids.includes(Number(u.ID))).map(userOut);
  },
  profile: (ctx) => {
    const u = ctx.portal.users.get(ctx.userId)!;
    return { ID: u.ID, ADMIN: u.ADMIN, NAME: u.NAME, LAST_NAME: u.LAST_NAME, PERSONAL_GENDER: "", TIME_ZONE: "", TIME_ZONE_OFFSET: 0 };
  },
  "server.time": (ctx) => ctx.fake.clock.iso(),
  "app.option.get": (ctx, p) => (p.option ? ctx.portal.app.options[String(p.option)] ?? null : ctx.portal.app.options),
  "app.option.set": (ctx, p) => {
    if (!ctx.isAdmin) throw E.denied();
    Object.assign(ctx.portal.app.options, p.options as Record<string, string>);
    return true;
  },
});
