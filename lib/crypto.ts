import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { loadEnv } from "@/lib/env";

// Tokens at rest: AES-256-GCM under a key derived from APP_SECRET (HKDF-SHA256). Every ciphertext names its key id,
// so APP_SECRET can be rotated: APP_SECRET_PREVIOUS still decrypts, `npm run secrets:reencrypt` moves rows to the
// new key (docs/decisions/003-token-encryption.md).

interface Key {
  id: string;
  key: Buffer;
}

function deriveKey(secret: string): Key {
  const key = Buffer.from(hkdfSync("sha256", secret, "b24-app", "token-encryption-v1", 32));
  const id = createHash("sha256").update(key).digest("hex").slice(0, 8);
  return { id, key };
}

let keys: { current: Key; all: Map<string, Key> } | null = null;
function getKeys() {
  if (!keys) {
    const env = loadEnv();
    const current = deriveKey(env.APP_SECRET);
    const all = new Map([[current.id, current]]);
    if (env.APP_SECRET_PREVIOUS) {
      const prev = deriveKey(env.APP_SECRET_PREVIOUS);
      all.set(prev.id, prev);
    }
    keys = { current, all };
  }
  return keys;
}

export function resetKeysForTests(): void {
  keys = null;
}

export class DecryptError extends Error {}

/** "v1.<kid>.<iv>.<tag>.<ciphertext>" (base64url parts) */
export function encryptSecret(plain: string): string {
  const { current } = getKeys();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", current.key, iv);
  cipher.setAAD(Buffer.from(current.id));
  const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return [
    "v1",
    current.id,
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    ct.toString("base64url"),
  ].join(".");
}

export function decryptSecret(box: string): string {
  const [v, kid, iv, tag, ct] = box.split(".");
  if (v !== "v1" || !kid || !iv || !tag || ct === undefined) throw new DecryptError("malformed ciphertext");
  const key = getKeys().all.get(kid);
  if (!key) throw new DecryptError(`no key for key id ${kid}: set APP_SECRET_PREVIOUS to the old secret`);
  const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

export function keyIdOf(box: string): string | undefined {
  return box.split(".")[1];
}

export function currentKeyId(): string {
  return getKeys().current.id;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Constant-time comparison of two strings (lengths leak, contents do not). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** HMAC-signed value for URLs we hand to the browser (e.g. which portal's install report to show). */
export function signValue(value: string): string {
  const mac = createHash("sha256")
    .update(`${getKeys().current.id}|${value}|${loadEnv().APP_SECRET}`)
    .digest("base64url")
    .slice(0, 22);
  return `${value}.${mac}`;
}

export function verifySigned(signed: string): string | null {
  const i = signed.lastIndexOf(".");
  if (i <= 0) return null;
  const value = signed.slice(0, i);
  return safeEqual(signValue(value), signed) ? value : null;
}
