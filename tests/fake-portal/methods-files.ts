import { E } from "./errors";
import type { Ctx, MethodTable } from "./rest-types";
import type { CrmRecord, Entity } from "./types";

// Files as Bitrix24 takes them (docs/bitrix24.md#uploads): Drive uploads (direct `fileContent` or the two-step
// uploadUrl), CRM file fields ({fileData: [name, base64]}, stored and answered as a file descriptor), Drive-bound
// fields (Drive ids "n<ID>" of files that exist), and document templates (a bare base64 string or a [name, base64]
// pair).
const isBase64 = (s: unknown): s is string => typeof s === "string" && s.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v && typeof v === "object" && Object.keys(v).every((k) => /^\d+$/.test(k)) ? Object.values(v) : [v]);

export function storeDiskFile(ctx: Pick<Ctx, "portal" | "fake" | "userId">, folderId: number, name: string, size: number) {
  const id = ctx.portal.disk.nextId++;
  const now = ctx.fake.clock.iso();
  const file = { ID: String(id), NAME: name, CODE: null, STORAGE_ID: "1", TYPE: "file", PARENT_ID: String(folderId), DELETED_TYPE: "0", GLOBAL_CONTENT_VERSION: "1",
    FILE_ID: String(id), SIZE: String(size), CREATE_TIME: now, UPDATE_TIME: now, DELETE_TIME: null, CREATED_BY: String(ctx.userId), UPDATED_BY: String(ctx.userId),
    DELETED_BY: "0", DOWNLOAD_URL: `${ctx.portal.baseUrl}/disk/downloadFile/${id}/`, DETAIL_URL: `${ctx.portal.baseUrl}/docs/file/${name}` };
  ctx.portal.disk.files.set(id, file);
  return file;
}

function fileDescriptor(ctx: Ctx, field: string, v: unknown) {
  const data = (v as { fileData?: unknown } | null)?.fileData;
  const [name, b64] = data && typeof data === "object" ? Object.values(data) : [];
  if (typeof name !== "string" || !isBase64(b64)) throw E.arg(`${field}: a file field takes {fileData: [name, base64]} (base64 without a data: prefix)`, field);
  const id = ctx.portal.disk.nextId++;
  return { id, name, size: Buffer.from(b64, "base64").length, showUrl: `/bitrix/components/bitrix/crm.deal.show/show_file.php?fileId=${id}`, downloadUrl: `/rest/crm.deal.show_file?fileId=${id}` };
}

function driveId(ctx: Ctx, field: string, v: unknown) {
  const m = /^n(\d+)$/.exec(String(v));
  if (!m || !ctx.portal.disk.files.has(Number(m[1]))) throw E.arg(`${field}: a Drive field takes Drive ids "n<ID>" of uploaded files`, field);
  return m[1]!;
}

/**
 * A value that keeps a file the field already has: `{id: N}` for a CRM file field, the attached id itself for a Drive
 * field. A multiple field's update REPLACES its whole set — values not passed back are dropped — as Bitrix24 does for
 * every multiple field ("pass the ID of the current value", b24restdocs crm/universal/user-defined-fields/
 * user-field.md; core crm restservice internalizes a file value with only an `id` as "keep this file").
 */
function kept(def: { type: string }, current: unknown[], v: unknown): unknown {
  if (def.type === "file") {
    const id = (v as { id?: unknown } | null)?.id;
    if (id === undefined || (v as { fileData?: unknown }).fileData) return undefined;
    return current.find((c) => String((c as { id?: unknown })?.id) === String(id));
  }
  return current.find((c) => String(c) === String(v));
}

/** File values of a CRM write, checked and stored as Bitrix24 does; other fields pass through. */
export function acceptFileFields(ctx: Ctx, entity: Entity, fields: CrmRecord, before?: CrmRecord): CrmRecord {
  const out: CrmRecord = { ...fields };
  for (const [k, v] of Object.entries(fields)) {
    const def = ctx.portal.fields[entity][k];
    if (!def || v === "" || v === null || (def.type !== "file" && def.type !== "disk_file")) continue;
    const current = asList(before?.[k] ?? []);
    const values = asList(v).map((x) => kept(def, current, x) ?? (def.type === "file" ? fileDescriptor(ctx, k, x) : driveId(ctx, k, x)));
    out[k] = def.isMultiple ? values : values[0];
  }
  return out;
}

export const fileMethods: MethodTable = {
  "disk.storage.getlist": () => [{ ID: "1", NAME: "Shared drive", CODE: null, MODULE_ID: "disk", ENTITY_TYPE: "common", ENTITY_ID: "shared_files_s1", ROOT_OBJECT_ID: "1" }],
  "disk.storage.getforapp": () => ({ ID: "2", NAME: "Application storage", CODE: null, MODULE_ID: "disk", ENTITY_TYPE: "restapp", ENTITY_ID: "1", ROOT_OBJECT_ID: "2" }),
  "disk.folder.uploadfile": (ctx, p) => {
    if (!p.id) throw E.arg("Required parameter id is empty", "id");
    const content = p.fileContent as Record<string, string> | undefined;
    const name = String((p.data as Record<string, unknown> | undefined)?.NAME ?? "file");
    if (!content) {
      const token = `disk|${Math.random().toString(36).slice(2)}`;
      ctx.portal.disk.uploads.set(token, Number(p.id));
      return { field: "file", uploadUrl: `${ctx.portal.baseUrl}/rest/upload.json?auth=${ctx.token}&token=${encodeURIComponent(token)}&name=${encodeURIComponent(name)}` };
    }
    const [fname, b64] = Object.values(content);
    return storeDiskFile(ctx, Number(p.id), fname ?? name, Buffer.from(b64 ?? "", "base64").length);
  },
  "documentgenerator.template.add": (ctx, p) => {
    const f = (p.fields ?? {}) as Record<string, unknown>;
    const file = f.file;
    const [name, b64] = isBase64(file) ? ["template", file] : file && typeof file === "object" ? Object.values(file as object) : [];
    if (typeof name !== "string" || !isBase64(b64)) throw E.arg("fields[file]: a base64 string or [name, base64]", "file");
    const id = ctx.portal.disk.nextId++;
    ctx.portal.disk.templates.push({ id, name: String(f.name ?? name), size: Buffer.from(b64, "base64").length, bare: isBase64(file) });
    return { template: { id: String(id), name: String(f.name ?? name) } };
  },
};
