import { E } from "./errors";
import type { ItemField } from "./items-model";
import { asList, isBase64, storeCrmFile } from "./methods-files";
import type { Ctx } from "./rest-types";
import type { CrmRecord } from "./types";

// File fields through crm.item.* — every CRM type's, the legacy four's included (b24restdocs
// api-reference/files/how-to-update-files.md "crm.item.update — Update a Field in a CRM Object";
// api-reference/crm/universal/crm-item-update.md "How to Update a File Type Custom Field"):
// - a new file is a ["name", "base64"] pair (how-to-upload-files.md #formats: crm.item.add/update take the pair form;
//   "an empty string will result in a method error");
// - `{id: N}` keeps file N the field has; "If you pass a value different from the current one in id, the field value
//   will be reset and the file will be deleted";
// - a multiple field is set as a whole: "Files whose ID are not passed in the array are deleted";
// - "" clears the field ("To do this, simply pass an empty string");
// - "There are no 'file (Drive)' type fields in the CRM: the file fields of CRM items are of the 'file' type".
// Read back, crm.item.get/list answer a file as {id, url, urlMachine} (a list of them for a multiple field); urlMachine
// carries the caller's auth ("do not publish it and do not record it in logs", how-to-update-files.md).
// The stored value stays what crm.<entity>.get answers ({id, name, size, showUrl, downloadUrl}, methods-files.ts),
// so both read paths see the same files.

const idOf = (v: unknown): number | null => {
  const raw = v && typeof v === "object" ? ((v as { id?: unknown; ID?: unknown }).id ?? (v as { ID?: unknown }).ID) : v;
  const n = Number(raw);
  return raw === null || raw === undefined || raw === "" || !Number.isInteger(n) ? null : n;
};

/** A stored file value (one, a list, ids or descriptors) as crm.item.get answers it. */
export function itemFileValue(
  baseUrl: string,
  auth: string,
  entityTypeId: number,
  recordId: unknown,
  f: ItemField,
  stored: unknown,
): unknown {
  const ids = (Array.isArray(stored) ? stored : [stored]).map(idOf).filter((id): id is number => id !== null);
  const one = (id: number) => ({
    id,
    url:
      `${baseUrl}/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&SITE_ID=s1` +
      `&entityTypeId=${entityTypeId}&id=${String(recordId)}&fieldName=${f.upper}&fileId=${id}`,
    urlMachine:
      `${baseUrl}/rest/crm.controller.item.getFile.json?auth=${encodeURIComponent(auth)}` +
      `&token=${encodeURIComponent(`crm|${entityTypeId}|${String(recordId)}|${f.upper}|${id}`)}`,
  });
  if (f.def.isMultiple) return ids.map(one);
  return ids.length ? one(ids[0]!) : null;
}

/** ["name", "base64"] (or the same as an object with keys 0 and 1, as a form-encoded request sends it). */
function pairOf(v: unknown): [string, string] | null {
  if (!v || typeof v !== "object" || (!Array.isArray(v) && "id" in v)) return null;
  const parts = Array.isArray(v) ? v : Object.keys(v).every((k) => /^\d+$/.test(k)) ? Object.values(v) : [];
  return parts.length === 2 && typeof parts[0] === "string" && typeof parts[1] === "string"
    ? [parts[0], parts[1]]
    : null;
}

const isKeep = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v) && "id" in v;

function oneValue(ctx: Ctx, field: string, current: unknown[], v: unknown): unknown {
  const pair = pairOf(v);
  if (pair) {
    if (!pair[0] || !isBase64(pair[1]))
      throw E.arg(
        `${field}: a new file is ["name", "base64"] with a file name and base64 without a data: prefix`,
        field,
      );
    return storeCrmFile(ctx, pair[0], pair[1]);
  }
  if (isKeep(v)) {
    const id = idOf(v);
    // a file the field does not have: "the field value will be reset and the file will be deleted"
    return id === null ? undefined : current.find((c) => idOf(c) === id);
  }
  throw E.arg(
    `${field}: a file field of crm.item takes ["name", "base64"] for a new file, {id} of a file it has, ` +
      `or "" to clear it (crm-item-update.md); not {fileData}, a bare string or a number`,
    field,
  );
}

/**
 * The file fields of a crm.item.add/update `fields` as the values to store; other fields pass through untouched.
 * `before` is the stored record an update changes (its files are the ones `{id}` may keep).
 */
export function acceptItemFiles(
  ctx: Ctx,
  fields: ItemField[],
  input: Record<string, unknown>,
  before?: CrmRecord,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  for (const [k, v] of Object.entries(input)) {
    const f = fields.find((x) => x.name === k || x.upper === k || x.key === k);
    if (!f || f.def.type !== "file" || f.def.isReadOnly) continue;
    const current = asList(before?.[f.key] ?? []).filter((c) => idOf(c) !== null);
    if (v === "" || v === null) {
      out[k] = f.def.isMultiple ? [] : null;
      continue;
    }
    if (f.def.isMultiple) {
      // one pair or one {id} is one value; otherwise the list is the field's whole new set
      const list = pairOf(v) || isKeep(v) ? [v] : asList(v);
      out[k] = list.map((x) => oneValue(ctx, k, current, x)).filter((x) => x !== undefined);
    } else {
      // "pass a list where the file ID is provided under the id key": a list of one value is that value
      const single = Array.isArray(v) && v.length === 1 && !pairOf(v) ? v[0] : v;
      out[k] = oneValue(ctx, k, current, single) ?? null;
    }
  }
  return out;
}
