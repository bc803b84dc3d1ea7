import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { keyIdOf } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import { createInstalledPortal } from "../support/portal-fixture";

const run = promisify(execFile);

describe("APP_SECRET rotation", () => {
  it("npm run secrets:reencrypt moves every token to the new key; the old secret is then no longer needed", async () => {
    const portal = await createInstalledPortal({
      endpoint: "http://127.0.0.1:9",
      tokens: { access_token: "access-1", refresh_token: "refresh-1", expires: 2_000_000_000, scope: "crm" },
    });
    const before = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: portal.id } });
    const rotated = {
      ...process.env,
      APP_SECRET: "a-brand-new-secret-for-rotation-0123456789",
      APP_SECRET_PREVIOUS: process.env.APP_SECRET,
    };
    const out = await run("npx", ["tsx", "--conditions=react-server", "scripts/reencrypt.ts"], { env: rotated });
    expect(out.stdout).toMatch(/re-encrypted \d+ of \d+ token sets/);
    const after = await getDb().tokenSet.findUniqueOrThrow({ where: { portalId: portal.id } });
    expect(keyIdOf(after.accessTokenEnc)).not.toBe(keyIdOf(before.accessTokenEnc));
    expect(after.accessTokenEnc).not.toContain("access-1");
    // Only the new secret now: the child decrypts with it alone.
    const check = await run(
      "npx",
      [
        "tsx",
        "--conditions=react-server",
        "-e",
        `import("@/lib/portals/tokens").then(async (m) => { const t = await m.loadTokens(${JSON.stringify(portal.id)}); console.log(t?.accessToken); process.exit(0); })`,
      ],
      { env: { ...rotated, APP_SECRET_PREVIOUS: "" } },
    );
    expect(check.stdout.trim().split("\n").at(-1)).toBe("access-1");
  });
});
