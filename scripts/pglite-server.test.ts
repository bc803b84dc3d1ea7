import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { servePglite, type PgliteServer } from "./pglite-server";

// The embedded database must behave like a server with one backend per connection: concurrent clients with
// extended-protocol queries of different shapes never see each other's statements, and a transaction is not
// interleaved with other connections' queries. (pglite-socket 0.2.x, used before, interleaved the messages of
// concurrent connections under the app's load — electric-sql/pglite#1046 — with a timing this test does not force.)
let server: PgliteServer;
const url = () => `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "pglite-server-")); // on disk, as `npm run dev` keeps it
  server = await servePglite(await PGlite.create(dir));
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the embedded PostgreSQL server", () => {
  it("answers concurrent clients of two other processes correctly, whatever the shape of their statements", async () => {
    // In other processes, as the web server, workers and CLI tools are: their messages arrive while PGlite is busy.
    const script = `
      const pg = require("pg");
      const pool = new pg.Pool({ connectionString: process.argv[1], max: 8 });
      Promise.all(Array.from({ length: 600 }, async (_, i) => {
        const params = Array.from({ length: 1 + (i % 5) }, (_, j) => i * 10 + j); // 1 to 5 parameters
        const sql = "SELECT " + params.map((_, j) => "$" + (j + 1) + "::int").join(" + ") + " AS sum /* " + "x".repeat(i % 7 ? 10 : 70000) + " */";
        const want = params.reduce((a, b) => a + b, 0);
        try { return Number((await pool.query(sql, params)).rows[0].sum) === want ? 0 : 1; } catch { return 1; }
      })).then((r) => { console.log(r.reduce((a, b) => a + b, 0)); return pool.end(); });`;
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script, url()], (e, out) => (e ? reject(e) : resolve(out.trim()))),
      );
    expect(await Promise.all([run(), run()])).toEqual(["0", "0"]); // wrong or failed answers per process
  });

  it("keeps other connections out of an open transaction, and lets them in when it ends", async () => {
    const a = new pg.Client({ connectionString: url() });
    const b = new pg.Client({ connectionString: url() });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query("CREATE TABLE t (v int)");
      await a.query("BEGIN");
      await a.query("INSERT INTO t VALUES (1)");
      const other = b.query<{ n: number }>("SELECT count(*)::int AS n FROM t");
      await a.query("INSERT INTO t VALUES (2)"); // a goes on while b's query is waiting
      await a.query("ROLLBACK");
      // One PGlite session serves every connection: run inside a's transaction, b would have counted a's uncommitted
      // rows. It counts none, so it ran after the ROLLBACK — no wait-and-see window needed.
      expect((await other).rows[0]!.n).toBe(0);
      await a.query("INSERT INTO t VALUES (3)");
      expect((await b.query<{ n: number }>("SELECT count(*)::int AS n FROM t")).rows[0]!.n).toBe(1);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
