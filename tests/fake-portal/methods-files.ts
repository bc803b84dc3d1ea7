import { E } from "./errors";
import { ListAnswer, type Ctx, type MethodTable } from "./rest-types";
import type { CrmRecord, Entity } from "./types";

// Files as Bitrix24 takes them (docs/bitrix24.md#uploads): Drive uploads (direct `fileContent` or the two-step
// uploadUrl), CRM file fields ({fileData: [name, base64]}, stored and answered as a file descriptor), Drive-bound
// fields (Drive ids "n<ID>" of files that exist), and document templates (a bare base64 string or a [name, base64]
// pair).
export const isBase64 = (s: unknown): s is string =>
  typeof s === "string" && s.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0;
export const asList = (v: unknown): unknown[] =>
  Array.isArray(v)
    ? v
    : v && typeof v === "object" && Object.keys(v).every((k) => /^\d+$/.test(k))
      ? Object.values(v)
      : [v];

/** What each uploaded Drive file holds, kept so tests can read an upload back (diskFileContent). */
const contents = new WeakMap<object, Buffer>();
export const diskFileContent = (portal: Ctx["portal"], id: number): Buffer | undefined => {
  const file = portal.disk.files.get(id);
  return file ? contents.get(file) : undefined;
};

/** Each user's own Drive storage: storage 100000+ID, its root folder 100000+ID as well (ids of the fake's choosing). */
export const USER_ROOT = 100_000;
const userStorage = (u: { ID: string; NAME: string; LAST_NAME: string }) => ({
  ID: String(USER_ROOT + Number(u.ID)),
  NAME: `${u.NAME} ${u.LAST_NAME}`.trim(),
  CODE: null,
  MODULE_ID: "disk",
  ENTITY_TYPE: "user",
  ENTITY_ID: u.ID,
  ROOT_OBJECT_ID: String(USER_ROOT + Number(u.ID)),
});

/** "name (1).ext", "name (2).ext", … until no file of the folder has the name (generateUniqueName). */
function uniqueName(ctx: Pick<Ctx, "portal">, folderId: number, name: string): string {
  const taken = new Set(
    [...ctx.portal.disk.files.values()].filter((f) => f.PARENT_ID === String(folderId)).map((f) => f.NAME),
  );
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  let out = name;
  for (let n = 1; taken.has(out); n++) out = `${stem} (${n})${ext}`;
  return out;
}

/** The file of a multipart/form-data body, byte for byte (the body is binary: a zip is not UTF-8). */
export function multipartFile(raw: Buffer, contentType: string): { name: string; content: Buffer } | null {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return null;
  const text = raw.toString("latin1"); // one char a byte: indexes in the string are offsets in the buffer
  for (const start of [
    ...text.matchAll(new RegExp(`--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\r\n`, "g")),
  ].map((m) => m.index + m[0].length)) {
    const headEnd = text.indexOf("\r\n\r\n", start);
    const name = /filename="([^"]*)"/.exec(text.slice(start, headEnd))?.[1];
    if (headEnd < 0 || name === undefined) continue;
    const end = text.indexOf(`\r\n--${boundary}`, headEnd + 4);
    return {
      name: Buffer.from(name, "latin1").toString("utf8"),
      content: raw.subarray(headEnd + 4, end < 0 ? raw.length : end),
    };
  }
  return null;
}

export function storeDiskFile(
  ctx: Pick<Ctx, "portal" | "fake" | "userId">,
  folderId: number,
  name: string,
  size: number,
  content?: Buffer,
) {
  const id = ctx.portal.disk.nextId++;
  const now = ctx.fake.clock.iso();
  const file = {
    ID: String(id),
    NAME: name,
    CODE: null,
    STORAGE_ID: "1",
    TYPE: "file",
    PARENT_ID: String(folderId),
    DELETED_TYPE: "0",
    GLOBAL_CONTENT_VERSION: "1",
    FILE_ID: String(id),
    SIZE: String(size),
    CREATE_TIME: now,
    UPDATE_TIME: now,
    DELETE_TIME: null,
    CREATED_BY: String(ctx.userId),
    UPDATED_BY: String(ctx.userId),
    DELETED_BY: "0",
    DOWNLOAD_URL: `${ctx.portal.baseUrl}/disk/downloadFile/${id}/`,
    DETAIL_URL: `${ctx.portal.baseUrl}/docs/file/${name}`,
  };
  ctx.portal.disk.files.set(id, file);
  if (content) contents.set(file, content);
  return file;
}

/**
 * A new file of a CRM file field. The field holds its descriptor (what crm.<entity>.get answers, legacyFileView); the
 * name and bytes are kept apart, as b_file keeps them, for the download (item-file-download.ts).
 */
export function storeCrmFile(ctx: Pick<Ctx, "portal">, name: string, b64: string) {
  const id = ctx.portal.disk.nextId++;
  ctx.portal.disk.crmFiles.set(id, { name, content: Buffer.from(b64, "base64") });
  return {
    id,
    showUrl: `/bitrix/components/bitrix/crm.deal.show/show_file.php?fileId=${id}`,
    downloadUrl: `/bitrix/components/bitrix/crm.deal.show/show_file.php?auth=&fileId=${id}`,
  };
}

/** A legacy CRM file value {fileData: [name, base64]}, checked and stored (storeCrmFile). */
export function fileDescriptor(ctx: Pick<Ctx, "portal">, field: string, v: unknown) {
  const data = (v as { fileData?: unknown } | null)?.fileData;
  const [name, b64] = data && typeof data === "object" ? Object.values(data) : [];
  if (typeof name !== "string" || !isBase64(b64))
    throw E.arg(`${field}: a file field takes {fileData: [name, base64]} (base64 without a data: prefix)`, field);
  return storeCrmFile(ctx, name, b64);
}

function driveId(ctx: Ctx, field: string, v: unknown) {
  const m = /^n(\d+)$/.exec(String(v));
  if (!m || !ctx.portal.disk.files.has(Number(m[1])))
    throw E.arg(`${field}: a Drive field takes Drive ids "n<ID>" of uploaded files`, field);
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
    const values = asList(v).map(
      (x) => kept(def, current, x) ?? (def.type === "file" ? fileDescriptor(ctx, k, x) : driveId(ctx, k, x)),
    );
    out[k] = def.isMultiple ? values : values[0];
  }
  return out;
}

/** Upload tokens (step 1 of a two-step upload) that asked for generateUniqueName. */
const uniqueUploads = new Set<string>();
/** Step 2 of a two-step upload: the file of the multipart POST, stored in the folder step 1 named. */
export function finishDiskUpload(
  ctx: Pick<Ctx, "portal" | "fake" | "userId">,
  token: string,
  folder: number,
  file: { name: string; content: Buffer },
) {
  const name = uniqueUploads.delete(token) ? uniqueName(ctx, folder, file.name) : file.name;
  return storeDiskFile(ctx, folder, name, file.content.length, file.content);
}

export const fileMethods: MethodTable = {
  // b24restdocs api-reference/disk/storage/disk-storage-get-list.md: "any user" may call it; `filter` by the storage's
  // fields (a key may carry an operation prefix — the fake knows "=" and none, exact match), pages of 50 by `start`.
  // The answer lists the storages the caller can reach: the shared drive and the caller's own ("user", ENTITY_ID =
  // the user; an administrator reaches every user's, as the response example shows other users' storages).
  "disk.storage.getlist": (ctx, p) => {
    const users = [...ctx.portal.users.values()].filter((u) => ctx.isAdmin || Number(u.ID) === ctx.userId);
    const all = [
      {
        ID: "1",
        NAME: "Shared drive",
        CODE: null,
        MODULE_ID: "disk",
        ENTITY_TYPE: "common",
        ENTITY_ID: "shared_files_s1",
        ROOT_OBJECT_ID: "1",
      },
      ...users.map(userStorage),
    ] as Record<string, unknown>[];
    const filter = Object.entries((p.filter ?? {}) as Record<string, unknown>).map(
      ([k, v]) => [k.replace(/^=/, ""), String(v)] as const,
    );
    const found = all.filter((st) => filter.every(([k, v]) => String(st[k]) === v));
    const start = Math.max(0, Number(p.start ?? 0) || 0);
    return new ListAnswer(
      found.slice(start, start + 50),
      found.length,
      start + 50 < found.length ? start + 50 : undefined,
    );
  },
  "disk.storage.getforapp": () => ({
    ID: "2",
    NAME: "Application storage",
    CODE: null,
    MODULE_ID: "disk",
    ENTITY_TYPE: "restapp",
    ENTITY_ID: "1",
    ROOT_OBJECT_ID: "2",
  }),
  // b24restdocs api-reference/disk/folder/disk-folder-upload-file.md: `id` the folder; `fileContent` [name, Base64]
  // uploads at once, without it the answer is {field, uploadUrl} for a multipart POST (rest.ts finishUpload);
  // "a user with Add access permission for the required folder": a user's Drive takes that user's files only;
  // `generateUniqueName` (default false) names a clash "file (1).ext".
  "disk.folder.uploadfile": (ctx, p) => {
    if (!p.id) throw E.arg("Required parameter id is empty", "id");
    const folder = Number(p.id);
    if (folder > USER_ROOT && folder - USER_ROOT !== ctx.userId) throw E.denied();
    const content = p.fileContent as Record<string, string> | undefined;
    const unique = ["1", "true", "Y"].includes(String(p.generateUniqueName ?? "false"));
    const named = (n: string) => (unique ? uniqueName(ctx, folder, n) : n);
    const name = String((p.data as Record<string, unknown> | undefined)?.NAME ?? "file");
    if (!content) {
      const token = `disk|${Math.random().toString(36).slice(2)}`;
      ctx.portal.disk.uploads.set(token, folder);
      if (unique) uniqueUploads.add(token);
      return {
        field: "file",
        uploadUrl: `${ctx.portal.baseUrl}/rest/upload.json?auth=${ctx.token}&token=${encodeURIComponent(token)}&name=${encodeURIComponent(name)}`,
      };
    }
    const [fname, b64] = Object.values(content);
    const bytes = Buffer.from(b64 ?? "", "base64");
    return storeDiskFile(ctx, folder, named(fname ?? name), bytes.length, bytes);
  },
  "documentgenerator.template.add": (ctx, p) => {
    const f = (p.fields ?? {}) as Record<string, unknown>;
    const file = f.file;
    const [name, b64] = isBase64(file)
      ? ["template", file]
      : file && typeof file === "object"
        ? Object.values(file as object)
        : [];
    if (typeof name !== "string" || !isBase64(b64))
      throw E.arg("fields[file]: a base64 string or [name, base64]", "file");
    const id = ctx.portal.disk.nextId++;
    ctx.portal.disk.templates.push({
      id,
      name: String(f.name ?? name),
      size: Buffer.from(b64, "base64").length,
      bare: isBase64(file),
    });
    return { template: { id: String(id), name: String(f.name ?? name) } };
  },
};
