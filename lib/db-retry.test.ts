import { describe, expect, it } from "vitest";
import { Prisma } from "@prisma/client";
import { AppError } from "@/lib/http-errors";
import { isTransientDbError, withDbRetry } from "@/lib/db-retry";

// Shapes seen from Prisma 6.19 + @prisma/adapter-pg while a PostgreSQL server was stopped and restarted.
const known = (code: string, cause: object) =>
  new Prisma.PrismaClientKnownRequestError("failed", {
    code,
    clientVersion: "6.19.3",
    meta: { driverAdapterError: { name: "DriverAdapterError", cause } },
  });
const outage = [
  known("P1001", { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
  known("P2010", {
    originalCode: "57P01",
    kind: "postgres",
    code: "57P01",
    severity: "FATAL",
    message: "terminating connection due to administrator command",
  }),
  known("P2010", {
    originalCode: "57P03",
    kind: "postgres",
    code: "57P03",
    severity: "FATAL",
    message: "the database system is starting up",
  }),
  Object.assign(new Error("the database system is starting up"), {
    name: "DriverAdapterError",
    cause: { kind: "postgres", code: "57P03" },
  }),
  new Error("Connection terminated unexpectedly"),
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
    code: "ECONNREFUSED",
    syscall: "connect",
    errno: -111,
  }),
];

describe("isTransientDbError", () => {
  it("recognises a database that is restarting or unreachable", () => {
    for (const e of outage) expect(isTransientDbError(e), String(e)).toBe(true);
  });

  it("does not retry what a retry cannot fix", () => {
    expect(isTransientDbError(known("P2002", { kind: "UniqueConstraintViolation" }))).toBe(false);
    expect(isTransientDbError(known("P2010", { kind: "postgres", code: "42601", message: "syntax error" }))).toBe(
      false,
    );
    expect(isTransientDbError(new AppError(401, "unauthorized", "Unknown portal"))).toBe(false);
    expect(isTransientDbError(new TypeError("x is undefined"))).toBe(false);
  });
});

describe("withDbRetry", () => {
  it("rides out a short outage", async () => {
    let calls = 0;
    const result = await withDbRetry(async () => {
      if (++calls < 3) throw outage[0];
      return "stored";
    });
    expect(result).toBe("stored");
    expect(calls).toBe(3);
  });

  it("answers 503 with a clear message when the database stays away past the deadline", async () => {
    const failing = withDbRetry(
      async () => {
        throw outage[4];
      },
      { until: Date.now() + 300, unavailable: "The database is unavailable: the event was not stored." },
    );
    await expect(failing).rejects.toMatchObject({
      status: 503,
      code: "database_unavailable",
      message: "The database is unavailable: the event was not stored.",
    });
  });

  it("passes other errors through at once", async () => {
    let calls = 0;
    await expect(
      withDbRetry(async () => {
        calls++;
        throw new AppError(401, "unauthorized", "Unknown portal");
      }),
    ).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(1);
  });
});
