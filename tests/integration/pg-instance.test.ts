// The crash-safety suite's private database (tests/support/pg-instance.ts) never falls back to PGlite silently under
// CI: a PostgreSQL that is missing or fails to start fails the run, with the reason.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startDedicatedDb } from "../support/pg-instance";

/** A folder whose initdb and pg_ctl exist but fail, as a broken or half-installed PostgreSQL would. */
function brokenPgBin(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "broken-pg-"));
  for (const tool of ["initdb", "pg_ctl"]) {
    const script = "#!/bin/sh\necho 'initdb: could not create directory: Permission denied' >&2\nexit 1\n";
    writeFileSync(path.join(dir, tool), script);
    chmodSync(path.join(dir, tool), 0o755);
  }
  chmodSync(dir, 0o755); // run as the postgres user when we are root
  return dir;
}

describe("the crash-safety suite's own PostgreSQL", () => {
  it("under CI, a PostgreSQL that does not start fails with the reason instead of using PGlite", async () => {
    await expect(startDedicatedDb({ pgBin: brokenPgBin(), ci: true })).rejects.toThrow(
      /PostgreSQL at .* could not be started .*Permission denied.*under CI/s,
    );
  });

  it("under CI, no PostgreSQL installed fails too", async () => {
    await expect(startDedicatedDb({ pgBin: null, ci: true })).rejects.toThrow(/no initdb\/pg_ctl .*under CI/);
  });

  it("outside CI it falls back to PGlite, so a laptop without PostgreSQL still runs the suite", async () => {
    const db = await startDedicatedDb({ pgBin: brokenPgBin(), ci: false });
    try {
      expect(db.kind).toBe("pglite");
    } finally {
      await db.destroy();
    }
  });
});
