import "server-only";
import pg from "pg";

// The connection pool under Prisma's pg adapter, with one repair. Prisma's transaction manager hands a connection
// back only after its COMMIT / ROLLBACK statement succeeded; when the database goes away mid-transaction (a restart,
// a failover) that statement fails too and the connection stays checked out forever. Each outage leaks pool slots —
// once all are gone every query waits for ever, and $disconnect never returns (a worker stopped after a database
// restart hung and exited 13). A connection that ended while checked out is handed back here, as failed, after a
// grace period in which its holder would have released it itself.
const GRACE_MS = 1000;

export function createPool(connectionString: string, max: number): pg.Pool {
  // Sessions in UTC: Prisma stores TIMESTAMP columns as UTC, and raw SQL compares them with now(); in a server whose
  // TimeZone is not UTC those comparisons would be off by the offset.
  const pool = new pg.Pool({ connectionString, max, options: "-c TimeZone=UTC" });
  const checkedOut = new WeakSet<pg.PoolClient>();
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_err, client) => checkedOut.delete(client));
  pool.on("connect", (client) => {
    client.once("end", () => {
      setTimeout(() => {
        if (!checkedOut.has(client)) return;
        const release = client.release; // the pool's release of this checkout
        client.release = () => undefined; // a late release by the holder must not throw "already released"
        release.call(client, new Error("the connection ended while checked out"));
      }, GRACE_MS).unref();
    });
  });
  return pool;
}
