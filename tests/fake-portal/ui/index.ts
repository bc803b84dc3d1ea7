import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeBitrix, PortalState } from "../types";

export interface UiContext { portal: PortalState; fake: FakeBitrix; baseUrl: string }

/** The portal's browser pages (placeholder until the UI lands). */
export async function handleUi(_req: IncomingMessage, res: ServerResponse, _ctx: UiContext): Promise<void> {
  res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
}
