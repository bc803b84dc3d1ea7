import { RestError } from "./errors";
import { itemFields } from "./items-model";
import { mayRead, recordsOf } from "./methods-items";
import type { Ctx } from "./rest-types";

// The download behind a file's `urlMachine` (/rest/crm.controller.item.getFile.json?auth=…&token=…, item-files.ts),
// as Bitrix24's core serves it:
// - crm/lib/controller/item.php getFileAction: the item must exist ("CRM_TYPE_ITEM_NOT_FOUND") and the caller may read
//   it ("CRM_COMMON_READ_ACCESS_DENIED"), the field must be a file field and hold the file; it answers
//   BFile::createByFileId($fileId) with no name;
// - main/lib/engine/response/bfile.php: with no name given, the name is the file's ORIGINAL_NAME (the name it was
//   uploaded under); File::prepareOptions sends it as `attachment_name` with force_download;
// - main/classes/general/file.php CFile::ViewByUser: a GET answers `Content-Disposition: attachment;
//   filename="<transliterated>"; filename*=utf-8''<url-encoded name>`, honours `Range: bytes=a-b` with 206 Partial
//   Content and `Content-Range`; a HEAD answers 200 with Content-Type and Content-Length and no Content-Disposition.
// The URL goes through the REST server, so it takes a request from the portal's budget like a method (rest.ts).

export interface Download {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A name as CUtil::translit leaves it for the plain `filename=`: ASCII letters, digits and "." kept, the rest "-". */
const plainName = (name: string) => name.replace(/[^A-Za-z0-9.]/g, "-");

export function itemFileDownload(ctx: Ctx, params: Record<string, unknown>, method: string, range?: string): Download {
  const [scope, typeId, recordId, fieldName, fileId] = String(params.token ?? "").split("|");
  const t = Number(typeId);
  const id = Number(recordId);
  if (scope !== "crm" || !Number.isInteger(t) || !itemFields(ctx.portal, t))
    throw new RestError(400, "NOT_FOUND", "Smart process not found");
  const record = recordsOf(ctx.portal, t).get(id);
  if (!record) throw new RestError(400, "NOT_FOUND", "Item not found");
  if (!mayRead(ctx, t, id)) throw new RestError(400, "ACCESS_DENIED", "You do not have permission to view this item");
  const field = itemFields(ctx.portal, t)!.find((f) => f.upper === fieldName);
  if (!field || field.def.type !== "file") throw new RestError(400, "", `Field ${fieldName} is not a file field`);
  const held = [record[field.key]].flat().map((v) => Number((v as { id?: unknown } | null)?.id ?? v));
  const file = ctx.portal.disk.crmFiles.get(Number(fileId));
  // getFileAction answers null when the field does not hold the file: the REST server reports no result
  if (!file || !held.includes(Number(fileId))) throw new RestError(400, "", "Could not find file");
  const total = file.content.length;
  if (method === "HEAD")
    return {
      status: 200,
      headers: { "accept-ranges": "bytes", "content-type": "application/octet-stream", "content-length": `${total}` },
      body: Buffer.alloc(0),
    };
  const m = /^bytes=(\d*)-(\d*)$/.exec(range ?? "");
  let [from, to] = [0, total - 1];
  if (m) {
    from = Number(m[1] || 0);
    to = m[2] ? Math.min(Number(m[2]), total - 1) : total - 1;
    if (from > to) [from, to] = [0, total - 1];
  }
  const body = file.content.subarray(from, to + 1);
  return {
    status: m ? 206 : 200,
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${plainName(file.name)}"; filename*=utf-8''${encodeURIComponent(file.name)}`,
      "content-length": `${body.length}`,
      "accept-ranges": "bytes",
      ...(m ? { "content-range": `bytes ${from}-${to}/${total}` } : {}),
    },
    body,
  };
}
