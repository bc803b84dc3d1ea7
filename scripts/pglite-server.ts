// PGlite over the PostgreSQL wire protocol, safe for concurrent clients in several processes. PGlite is ONE session:
// @electric-sql/pglite-socket 0.2.x schedules single protocol messages of all connections in one queue and keeps a
// connection's turn only inside a transaction, so the Parse/Bind/Execute/Sync of two connections interleave and one
// binds the other's unnamed statement ("bind message supplies 3 parameters, but prepared statement "" requires 1",
// or wrong rows; electric-sql/pglite#1046). Here a connection holds the session from its first message until
// PGlite answers ReadyForQuery outside a transaction — what a real server's separate backends give for free.
import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

export interface PgliteServer {
  port: number;
  /** Drops every connection (as a server shutdown does) and closes the database. */
  stop(): Promise<void>;
}

interface Conn {
  socket: net.Socket;
  buffer: Buffer;
  started: boolean;
  closed: boolean;
  chain: Promise<void>;
}

export async function servePglite(db: PGlite, port = 0): Promise<PgliteServer> {
  let owner: Conn | null = null;
  const waiting: (() => void)[] = [];
  const conns = new Set<Conn>();
  let inFlight: Promise<unknown> = Promise.resolve();

  const acquire = async (c: Conn) => {
    while (owner && owner !== c) await new Promise<void>((r) => waiting.push(r));
    owner = c;
  };
  const release = (c: Conn) => {
    if (owner !== c) return;
    owner = null;
    waiting.shift()?.();
  };
  const run = (message: Uint8Array) =>
    (inFlight = db.runExclusive(() => db.execProtocolRaw(message))) as Promise<Uint8Array>;

  /** The next complete message in the buffer, or null. The startup-phase messages carry no type byte. */
  function take(c: Conn): Buffer | null {
    const head = c.started ? 5 : 8;
    if (c.buffer.length < head) return null;
    const length = c.started ? 1 + c.buffer.readInt32BE(1) : c.buffer.readInt32BE(0);
    if (c.buffer.length < length) return null;
    const message = c.buffer.subarray(0, length);
    c.buffer = c.buffer.subarray(length);
    return message;
  }

  async function handle(c: Conn, message: Buffer) {
    if (!c.started) {
      const code = message.readInt32BE(4);
      if (code === SSL_REQUEST) return void c.socket.write("N");
      if (code === CANCEL_REQUEST) return void c.socket.end();
      c.started = true;
    } else if (message[0] === 0x58) return void c.socket.end(); // Terminate
    await acquire(c);
    if (c.closed) return;
    const out = await run(message);
    if (!c.closed) c.socket.write(out);
    const readyIdle = out.length >= 6 && out[out.length - 6] === 0x5a && out[out.length - 1] === 0x49; // 'Z' … 'I'
    if (readyIdle) release(c);
  }

  /** A client gone mid-batch or mid-transaction: finish its batch and roll back, then let the next one in. */
  async function drop(c: Conn) {
    c.closed = true;
    conns.delete(c);
    await c.chain;
    if (owner !== c) return;
    await run(SYNC).catch(() => undefined);
    if (db.isInTransaction()) await db.exec("ROLLBACK").catch(() => undefined);
    release(c);
  }

  const server = net.createServer((socket) => {
    const c: Conn = { socket, buffer: Buffer.alloc(0), started: false, closed: false, chain: Promise.resolve() };
    conns.add(c);
    socket.setNoDelay(true);
    socket.on("data", (d) => {
      c.buffer = Buffer.concat([c.buffer, d]);
      c.chain = c.chain
        .then(async () => {
          for (let m = take(c); m && !c.closed; m = take(c)) await handle(c, m);
        })
        .catch(() => void socket.destroy());
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => void drop(c));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of conns) c.socket.destroy();
      await closed;
      await inFlight.catch(() => undefined);
      await db.close();
    },
  };
}
