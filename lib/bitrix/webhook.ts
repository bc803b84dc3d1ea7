import "server-only";
import type { BitrixClient, CallOptions, CallResult, PortalRef } from "@/lib/bitrix/contract";
import { BitrixError } from "@/lib/bitrix/errors";
import { assertAllowedUrl } from "@/lib/bitrix/http";
import { rawCall } from "@/lib/bitrix/client";
import { sleep } from "@/lib/bitrix/limiter";
import { limitBackoffMs } from "@/lib/bitrix/limits";
import { batchVia, listFast, listPaged } from "@/lib/bitrix/paging";

// Incoming-webhook mode (`https://portal/rest/<user>/<secret>/`) for single-portal automation without OAuth
// (seed: "Use incoming webhooks for one-portal local automation"). The secret is part of the URL: it is kept in this
// object only, never logged (redactWebhook) and never sent to a browser. No refresh; limits are handled by backoff.
const WEBHOOK_RE = /^(https?:\/\/[^/]+\/rest\/)(\d+)\/([^/]+)\/?$/;

export function redactWebhook(url: string): string {
  return url.replace(/(\/rest\/\d+\/)[^/]+/, "$1***");
}

class WebhookClient implements BitrixClient {
  readonly portal: PortalRef;
  constructor(private readonly base: string) {
    const host = new URL(base).host;
    this.portal = { id: `webhook:${host}`, memberId: "", clientEndpoint: redactWebhook(base), serverEndpoint: "" };
  }

  async call<T = unknown>(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<CallResult<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await rawCall<T>(this.base, null, method, params, opts);
      } catch (e) {
        if (!(e instanceof BitrixError) || e.code !== "QUERY_LIMIT_EXCEEDED" || attempt >= 4) throw e;
        await sleep(limitBackoffMs(attempt), opts.signal);
      }
    }
  }

  batch = batchVia(this);
  list = listFast(this);
  listPaged = listPaged(this);
}

export function bitrixForWebhook(url: string): BitrixClient {
  const m = WEBHOOK_RE.exec(url.trim());
  if (!m) throw new BitrixError("INVALID_WEBHOOK_URL", 0, "expected https://<portal>/rest/<user id>/<secret>/", undefined, "invalid_request");
  assertAllowedUrl(url, "webhook URL");
  return new WebhookClient(`${m[1]}${m[2]}/${m[3]}/`);
}
