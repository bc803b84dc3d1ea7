import "server-only";
import type { BitrixClient, Lane } from "@/lib/bitrix/contract";
import { assertAllowedUrl, downloadName } from "@/lib/bitrix/http";
import { acquireSlot } from "@/lib/bitrix/limiter";

/**
 * The name of a CRM file, read from its `urlMachine` (the download crm.item.get gives a file, with the reader's token
 * in it: b24restdocs api-reference/files/how-to-update-files.md). The download goes through the portal's REST server,
 * so it takes a slot of the portal's shared budget like a method call. A link that points away from the portal is
 * never followed; any failure is null (the tab then shows "File #id").
 */
export async function fileNameOf(client: BitrixClient, urlMachine: string, lane: Lane): Promise<string | null> {
  let url: URL;
  try {
    url = assertAllowedUrl(urlMachine, "urlMachine");
  } catch {
    return null;
  }
  if (url.origin !== new URL(client.portal.clientEndpoint).origin) return null;
  await acquireSlot(client.portal.id, lane);
  return downloadName(url.href, { portalId: client.portal.id, lane });
}
