import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { authOptions } from "@/lib/auth/options";
import { JSON_MAX_BYTES, readBodyLimited } from "@/lib/http/read-body";
import { toErrorResponse } from "@/lib/http-errors";

// next-auth's own endpoints (the bitrix-frame credentials provider); the iframe flow uses /bitrix/* and
// /api/auth/frame. next-auth reads a POST body whole: it gets the body read here first, under the limit of every
// route.
const handler = async (req: NextRequest, ctx: { params: Promise<{ nextauth: string[] }> }) => {
  let body: Uint8Array<ArrayBuffer> | undefined;
  try {
    if (req.method === "POST") body = await readBodyLimited(req, JSON_MAX_BYTES);
  } catch (error) {
    return toErrorResponse(error);
  }
  const limited = body ? new NextRequest(req.url, { method: req.method, headers: req.headers, body }) : req;
  return NextAuth(authOptions())(limited, ctx);
};
export { handler as GET, handler as POST };
