import { createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { bitrixFor } from "@/lib/bitrix";
import { decryptSecret, resetKeysForTests } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import {
  A,
  B,
  byPath,
  C,
  FORM,
  frameAuth,
  ownSecrets,
  rememberTokens,
  send,
  sessionFor,
  setUpSecurityEnv,
} from "../support/security-env";
import { testDatabaseUrl } from "../support/test-db";

// Threat: a copy of the database (a backup, a leaked dump) gives away portals' tokens or our secrets
// (docs/security.md, decision 003). The flows that store or carry tokens run first, then every table is dumped.
const s = setUpSecurityEnv();
/** Every token the fake Bitrix24 ever issued or sent (access, refresh, application_token), collected as they come. */
const seen = new Set<string>();
const remember = () => rememberTokens(s.env, seen);
afterEach(() => remember());

beforeAll(async () => {
  // Installs by the installer form (A, B: setUpSecurityEnv) and by ONAPPINSTALL (C), hand-offs of an admin and an
  // employee, a frame sign-in, an accepted event, an uninstall and a reinstall with a new application_token.
  expect(((await s.env.control("install", { mode: "event" }, C)) as { status: number }).status).toBe(200);
  s.portals[C] = await getDb().portal.findUniqueOrThrow({ where: { memberId: s.env.portal(C).memberId } });
  for (const userId of [1, 2]) {
    const f = await frameAuth(s.env, A, userId, { placement: "CRM_DEAL_DETAIL_TAB", options: { ID: 3 } });
    const form = {
      AUTH_ID: f.AUTH_ID!,
      member_id: f.member_id!,
      APPLICATION_TOKEN: f.APPLICATION_TOKEN!,
      PLACEMENT: f.PLACEMENT!,
      PLACEMENT_OPTIONS: f.PLACEMENT_OPTIONS!,
    };
    expect((await send(byPath("/bitrix/placement"), { form, query: "?DOMAIN=x&LANG=en" })).status).toBe(303);
  }
  await sessionFor(s.env, B, 1);
  const event =
    "event=ONCRMDEALUPDATE&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=2&ts=1" +
    `&auth%5Bmember_id%5D=${s.portals[C]!.memberId}` +
    `&auth%5Bapplication_token%5D=${s.env.state(C).app.applicationToken}`;
  expect(
    (await fetch(`${s.env.app.url}/api/bitrix/events`, { method: "POST", headers: FORM, body: event })).status,
  ).toBe(200);
  await s.env.control("uninstall", { clean: false }, C);
  remember();
  // Bitrix24 issues a new application_token with every installation; the fake keeps one per portal, so set it here.
  s.env.state(C).app.applicationToken = randomBytes(16).toString("hex");
  expect(((await s.env.control("install", { mode: "ui", finish: true }, C)) as { status: number }).status).toBe(303);
  remember();
});

describe("tokens at rest", () => {
  const title =
    "no table holds an OAuth token, application_token or secret in plaintext, after installs, a reinstall, " +
    "hand-offs, an event and a refresh";
  it(title, async () => {
    await s.env.control("tokens/expire", {}, A);
    const refreshes = s.env.state(A).counters.refreshes;
    await (await bitrixFor(s.portals[A]!.id)).call("user.current"); // expired_token → refresh → new pair stored
    expect(s.env.state(A).counters.refreshes).toBe(refreshes + 1);
    remember();
    const client = new pg.Client({ connectionString: await testDatabaseUrl() });
    await client.connect();
    const dump: string[] = [];
    try {
      const tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1";
      const { rows } = await client.query<{ tablename: string }>(tables);
      for (const { tablename } of rows) {
        const sql = `SELECT row_to_json(t)::text AS r FROM "${tablename}" t`;
        dump.push(...(await client.query<{ r: string }>(sql)).rows.map((r) => `${tablename} ${r.r}`));
      }
    } finally {
      await client.end();
    }
    const text = dump.join("\n");
    expect(text).toContain(s.portals[C]!.memberId); // the dump does see the data
    expect(text).toMatch(/"accessTokenEnc":"v1\./);
    const stored = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: s.portals[A]!.id } });
    expect(seen.has(decryptSecret(stored.accessTokenEnc))).toBe(true); // the token the fake issued, encrypted
    expect(seen.size).toBeGreaterThan(20);
    const leaks = [...seen, ...ownSecrets()].filter((secret) => text.includes(secret));
    expect(leaks).toEqual([]);
  });

  it("decrypting with a different APP_SECRET fails", async () => {
    const stored = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: s.portals[A]!.id } });
    const right = process.env.APP_SECRET!;
    const wrong = "a-different-app-secret-0123456789abcdef";
    try {
      process.env.APP_SECRET = wrong;
      resetEnvForTests();
      resetKeysForTests();
      expect(() => decryptSecret(stored.accessTokenEnc)).toThrow(/no key for key id/);
      // Even told which key id to use, a key derived from another secret does not authenticate the ciphertext.
      const [, kid, iv, tag, ct] = stored.refreshTokenEnc.split(".") as [string, string, string, string, string];
      const key = Buffer.from(hkdfSync("sha256", wrong, "b24-app", "token-encryption-v1", 32));
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      const open = () => Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]);
      expect(open).toThrow(/authenticate/);
    } finally {
      process.env.APP_SECRET = right;
      resetEnvForTests();
      resetKeysForTests();
    }
    expect(seen.has(decryptSecret(stored.refreshTokenEnc))).toBe(true);
  });
});
