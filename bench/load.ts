// Keep-alive load with autocannon (16 connections by default): a fixed duration or a fixed number of requests, one
// generated body per request. Answers other than 2xx are counted by status, with a few bodies kept to explain them.
import autocannon from "autocannon";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers whose body said {"status":"duplicate"} */
  duplicates: number;
  byStatus: Record<string, number>;
  samples: string[];
  seconds: number;
}

type Context = { i?: number };

/** `onQueued(i)`: body i was answered 2xx and not as a duplicate, i.e. the app took responsibility for it. */
export async function load(
  url: string,
  opts: {
    seconds?: number;
    amount?: number;
    connections?: number;
    body: (i: number) => string;
    onQueued?: (i: number) => void;
  },
): Promise<LoadResult> {
  let i = 0;
  let duplicates = 0;
  const byStatus: Record<string, number> = {};
  const samples: string[] = [];
  const started = Date.now();
  const result = await autocannon({
    url,
    method: "POST",
    connections: opts.connections ?? 16,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? 10 }),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    requests: [
      {
        // One request in flight per connection (no pipelining), so the connection's context knows which body it was.
        setupRequest: (req, context: Context) => {
          context.i = i++;
          return { ...req, body: opts.body(context.i) };
        },
        onResponse: (status: number, body: string, context: Context) => {
          if (status >= 200 && status < 300) {
            if (body.includes('"duplicate"')) duplicates++;
            else opts.onQueued?.(context.i!);
            return;
          }
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          if (samples.length < 5) samples.push(`${status} ${body.slice(0, 200)}`);
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    sent: i,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duplicates,
    byStatus,
    samples,
    seconds: (Date.now() - started) / 1000,
  };
}

/** "0" or "12 (500: 10, 503: 2)" */
export function non2xxSummary(r: LoadResult): string {
  const parts = Object.entries(r.byStatus).map(([s, n]) => `${s}: ${n}`);
  return parts.length ? `${r.non2xx} (${parts.join(", ")})` : String(r.non2xx);
}
