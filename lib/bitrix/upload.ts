import "server-only";
import type { BitrixCaller as BitrixClient } from "@/lib/bitrix/contract";
import { BitrixError } from "@/lib/bitrix/errors";
import { assertAllowedUrl, sendMultipart, toCallResult } from "@/lib/bitrix/http";

// One normalized upload abstraction: Bitrix24 takes files in four shapes depending on the target field
// (docs/bitrix24.md#uploads). Callers say WHERE the file goes; this module picks the payload form.
export interface FileInput {
  name: string;
  content: Uint8Array;
}
export type UploadForm = "base64" | "pair" | "fileData" | "disk";

export interface DiskFile {
  ID: string;
  NAME: string;
  SIZE: string;
  DOWNLOAD_URL?: string;
}

const b64 = (f: FileInput) => Buffer.from(f.content).toString("base64"); // no data: prefix — Bitrix24 rejects it

/**
 * The form a target expects: timeline comments and crm.item file fields take [name, base64] pairs; file user fields
 * of crm.deal/lead/contact/company take {fileData: [name, base64]} (the app no longer writes files that way: the docs
 * advise against it, b24restdocs api-reference/files/how-to-update-files.md); a few methods (documentgenerator
 * templates) take a bare base64 string; Drive-bound fields take Drive ids (disk-first). No CRM field is Drive-bound
 * ("There are no 'file (Drive)' type fields in the CRM: the file fields of CRM items are of the 'file' type",
 * how-to-update-files.md), so the disk form is only for method targets such as tasks.* — which nothing in the app
 * calls today; it stays as the upload module's fourth form (docs/bitrix24.md#uploads). uploadToDisk itself is still
 * needed: the portal-wide export puts its files on the user's Drive (lib/history/audit-export.ts).
 */
export function uploadFormFor(target: { method: string }): UploadForm {
  if (target.method.startsWith("tasks.")) return "disk";
  if (target.method.startsWith("documentgenerator.")) return "base64";
  if (
    target.method.startsWith("crm.timeline.") ||
    target.method.startsWith("crm.item.") ||
    target.method.startsWith("log.")
  )
    return "pair";
  if (/^crm\.(deal|lead|contact|company)\.(add|update)$/.test(target.method)) return "fileData";
  return "pair";
}

/** The value to put in the target parameter for the in-request forms. */
export function fileValue(form: Exclude<UploadForm, "disk">, file: FileInput): unknown {
  switch (form) {
    case "base64":
      return b64(file);
    case "pair":
      return [file.name, b64(file)];
    case "fileData":
      return { fileData: [file.name, b64(file)] };
  }
}

/** Disk-first: upload to a Drive folder (direct `fileContent`, or the two-step uploadUrl for large files). */
export async function uploadToDisk(
  client: BitrixClient,
  folderId: number,
  file: FileInput,
  opts: { twoStep?: boolean } = {},
): Promise<DiskFile> {
  if (!opts.twoStep) {
    const res = await client.call<DiskFile>(
      "disk.folder.uploadfile",
      { id: folderId, data: { NAME: file.name }, fileContent: [file.name, b64(file)], generateUniqueName: true },
      { lane: "interactive" },
    );
    return res.result;
  }
  const step1 = await client.call<{ field: string; uploadUrl: string }>(
    "disk.folder.uploadfile",
    { id: folderId },
    { lane: "interactive" },
  );
  const { field, uploadUrl } = step1.result;
  if (!field || !uploadUrl)
    throw new BitrixError(
      "MALFORMED_RESPONSE",
      200,
      "no uploadUrl in the answer",
      "disk.folder.uploadfile",
      "malformed",
    );
  // The upload URL must point at the same portal the client talks to.
  if (assertAllowedUrl(uploadUrl, "uploadUrl").origin !== new URL(client.portal.clientEndpoint).origin) {
    throw new BitrixError(
      "INVALID_ENDPOINT",
      0,
      "uploadUrl points away from the portal",
      "disk.folder.uploadfile",
      "invalid_request",
    );
  }
  return toCallResult<DiskFile>(await sendMultipart(uploadUrl, field, file, "disk.upload"), "disk.upload").result;
}

/** Where a file goes; the form follows from it (uploadFormFor). */
export type FileTarget =
  | { kind: "timeline"; entityType: string; entityId: number; comment: string }
  | {
      /** a CRM record's file field, any type, written with crm.item.update (see attachFile) */
      kind: "field";
      entityTypeId: number;
      entityId: number;
      /** the field's crm.item name (`ufCrm…`, `photo`…; "any field names … can be passed in either" spelling) */
      field: string;
      /** sent with useOriginalUfNames "Y": the answer names custom fields UF_CRM_…, as a legacy type keeps them */
      originalUfNames?: boolean;
      multiple?: boolean;
      /** a multiple field's current files as {id}, kept: crm.item.update deletes the files not passed */
      keep?: unknown[];
    }
  | { kind: "method"; method: string; params: Record<string, unknown>; path: [string, ...string[]] };

function setPath(params: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  return {
    ...params,
    [head!]: rest.length ? setPath((params[head!] ?? {}) as Record<string, unknown>, rest, value) : value,
  };
}

/** Drive-first: into the app's own Drive storage, then referenced by id ("n<ID>") from the field. */
async function toDrive(client: BitrixClient, file: FileInput): Promise<string> {
  const storage = await client.call<{ ROOT_OBJECT_ID: string }>("disk.storage.getforapp", {}, { lane: "interactive" });
  return `n${(await uploadToDisk(client, Number(storage.result.ROOT_OBJECT_ID), file)).ID}`;
}

/** Puts a file where the target wants it, in the form the target takes. Returns the form used and the answer. */
export async function attachFile(
  client: BitrixClient,
  target: FileTarget,
  file: FileInput,
): Promise<{ form: UploadForm; result: unknown }> {
  const opts = { lane: "interactive" as const };
  if (target.kind === "timeline") {
    const form = uploadFormFor({ method: "crm.timeline.comment.add" });
    const fields = {
      ENTITY_ID: target.entityId,
      ENTITY_TYPE: target.entityType,
      COMMENT: target.comment,
      FILES: [fileValue(form === "disk" ? "pair" : form, file)],
    };
    return { form, result: (await client.call("crm.timeline.comment.add", { fields }, opts)).result };
  }
  if (target.kind === "field") {
    // Every CRM type's file field through crm.item.update {entityTypeId, id, fields}: "It is not recommended to use
    // the methods crm.deal.update, crm.lead.update, crm.contact.update, crm.company.update for updating file fields"
    // (b24restdocs api-reference/files/how-to-update-files.md #crm-item-update). A new file is a [name, base64] pair
    // (how-to-upload-files.md #formats); a multiple field is set as a whole — "Files whose ID are not passed in the
    // array are deleted" — so the files it keeps go first as {id} (crm/universal/crm-item-update.md "How to Update
    // a File Type Custom Field"); a single-value field's old file is replaced.
    const method = "crm.item.update";
    const form = uploadFormFor({ method });
    const value = fileValue(form === "disk" ? "pair" : form, file);
    const fieldValue = target.multiple ? [...(target.keep ?? []), value] : value;
    const params: Record<string, unknown> = {
      entityTypeId: target.entityTypeId,
      id: target.entityId,
      fields: { [target.field]: fieldValue },
    };
    if (target.originalUfNames) params.useOriginalUfNames = "Y";
    return { form, result: (await client.call(method, params, opts)).result };
  }
  const form = uploadFormFor({ method: target.method });
  const value = form === "disk" ? await toDrive(client, file) : fileValue(form, file);
  return { form, result: (await client.call(target.method, setPath(target.params, target.path, value), opts)).result };
}
