import { getDb } from "@/lib/db";

// Liveness + database reachability, for the launcher scripts and load balancers.
export async function GET() {
  try {
    await getDb().$queryRaw`SELECT 1`;
    return Response.json({ ok: true });
  } catch {
    return Response.json({ ok: false, error: "database unreachable" }, { status: 503 });
  }
}
