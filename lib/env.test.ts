import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";

const base = {
  APP_URL: "https://app.example.com",
  BITRIX_CLIENT_ID: "app.123",
  BITRIX_CLIENT_SECRET: "secret",
  APP_SECRET: "x".repeat(32),
};

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv(base);
    expect(env.BITRIX_OAUTH_URL).toBe("https://oauth.bitrix.info");
    expect(env.BITRIX_OAUTH_ALLOWED).toEqual(["https://oauth.bitrix.info", "https://oauth.bitrix24.tech"]);
    expect(env.BITRIX_ALLOW_HTTP).toBe(false);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("always allows the configured OAuth server", () => {
    const env = parseEnv({
      ...base,
      BITRIX_OAUTH_URL: "http://127.0.0.1:4001",
      BITRIX_OAUTH_ALLOWED: "http://127.0.0.1:4001/",
    });
    expect(env.BITRIX_OAUTH_ALLOWED).toEqual(["http://127.0.0.1:4001"]);
  });

  it.each([
    ["APP_SECRET", { APP_SECRET: "short" }, /APP_SECRET: must be at least 32/],
    ["APP_URL", { APP_URL: "not a url" }, /APP_URL/],
    ["BITRIX_CLIENT_ID", { BITRIX_CLIENT_ID: undefined }, /BITRIX_CLIENT_ID/],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }, /DATABASE_URL: must be a postgresql/],
    ["BITRIX_OAUTH_ALLOWED", { BITRIX_OAUTH_ALLOWED: "ftp://x" }, /BITRIX_OAUTH_ALLOWED/],
    ["BITRIX_ALLOW_HTTP", { BITRIX_ALLOW_HTTP: "maybe" }, /BITRIX_ALLOW_HTTP/],
  ])("names the bad variable %s", (_name, patch, message) => {
    expect(() => parseEnv({ ...base, ...patch })).toThrow(message);
  });
});
