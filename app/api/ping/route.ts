// A bare route: no database, no parsing. Liveness probe, and the baseline the ingestion benchmark compares to.
export function GET() {
  return new Response("ok");
}

export async function POST(req: Request) {
  await req.arrayBuffer();
  return new Response("ok");
}
