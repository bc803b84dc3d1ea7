import { describe, expect, it } from "vitest";
import { readBodyLimited, readJsonBody } from "@/lib/http/read-body";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers, duplex: "half" } as RequestInit);

function chunked(chunks: number, size: number) {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= chunks) return c.close();
      pulled++;
      c.enqueue(new Uint8Array(size).fill(0x31));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

describe("readBodyLimited", () => {
  it("returns a body of exactly the limit, refuses one byte more with 413", async () => {
    expect((await readBodyLimited(post(new Uint8Array(100)), 100)).byteLength).toBe(100);
    await expect(readBodyLimited(post(new Uint8Array(101)), 100)).rejects.toMatchObject({ status: 413 });
  });

  it("stops pulling a chunked body at the limit and cancels its stream", async () => {
    const body = chunked(10_000, 1024);
    const read = readBodyLimited(post(body.stream), 4096);
    await expect(read).rejects.toMatchObject({ status: 413, code: "body_too_large" });
    expect(body.pulled()).toBeLessThan(10);
    expect(body.cancelled()).toBe(true);
  });

  it("refuses a declared Content-Length over the limit without reading", async () => {
    const body = chunked(10_000, 1024);
    const read = readBodyLimited(post(body.stream, { "content-length": "999999" }), 4096);
    await expect(read).rejects.toMatchObject({ status: 413 });
    expect(body.pulled()).toBeLessThanOrEqual(1);
  });

  it("reads no body as empty", async () => {
    expect((await readBodyLimited(new Request("http://x/"), 10)).byteLength).toBe(0);
  });
});

describe("readJsonBody", () => {
  it("parses JSON; empty or malformed reads as {} (the route's schema names the field)", async () => {
    expect(await readJsonBody(post('{"a":1}'))).toEqual({ a: 1 });
    expect(await readJsonBody(post("{not json"))).toEqual({});
    expect(await readJsonBody(post(null))).toEqual({});
  });

  it("refuses an oversized body with 413, not {}", async () => {
    await expect(readJsonBody(post(`{"a":"${"x".repeat(100)}"}`), 50)).rejects.toMatchObject({ status: 413 });
  });
});
