import { afterEach, describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, keyIdOf, resetKeysForTests, safeEqual } from "@/lib/crypto";
import { resetEnvForTests } from "@/lib/env";

const original = { APP_SECRET: process.env.APP_SECRET, APP_SECRET_PREVIOUS: process.env.APP_SECRET_PREVIOUS };
function useSecrets(current: string, previous?: string) {
  process.env.APP_SECRET = current;
  if (previous) process.env.APP_SECRET_PREVIOUS = previous;
  else delete process.env.APP_SECRET_PREVIOUS;
  resetEnvForTests();
  resetKeysForTests();
}

afterEach(() => useSecrets(original.APP_SECRET!, original.APP_SECRET_PREVIOUS));

describe("token encryption", () => {
  it("round-trips and never stores the plaintext", () => {
    const box = encryptSecret("s6p6eclrvim6da22ft9ch94ekreb52lv");
    expect(box).not.toContain("s6p6eclrvim6da22ft9ch94ekreb52lv");
    expect(decryptSecret(box)).toBe("s6p6eclrvim6da22ft9ch94ekreb52lv");
    expect(encryptSecret("same")).not.toBe(encryptSecret("same"));
  });

  it("rejects a tampered ciphertext", () => {
    const parts = encryptSecret("token").split(".");
    parts[4] = Buffer.from("tampered").toString("base64url");
    expect(() => decryptSecret(parts.join("."))).toThrow();
  });

  it("decrypts with APP_SECRET_PREVIOUS after a rotation, and not without it", () => {
    useSecrets("a".repeat(40));
    const old = encryptSecret("refresh-token");
    useSecrets("b".repeat(40), "a".repeat(40));
    expect(decryptSecret(old)).toBe("refresh-token");
    expect(keyIdOf(encryptSecret("x"))).not.toBe(keyIdOf(old));
    useSecrets("b".repeat(40));
    expect(() => decryptSecret(old)).toThrow(/APP_SECRET_PREVIOUS/);
  });

  it("compares secrets exactly", () => {
    expect(safeEqual("51856fefc120afa4b628cc82d3935cce", "51856fefc120afa4b628cc82d3935cce")).toBe(true);
    expect(safeEqual("51856fefc120afa4b628cc82d3935cce", "51856fefc120afa4b628cc82d3935ccf")).toBe(false);
    expect(safeEqual("short", "longer-value")).toBe(false);
  });
});
