import "server-only";
import { fileNameOf, type BitrixClient, type Lane } from "@/lib/bitrix";
import { getDb } from "@/lib/db";
import { log } from "@/lib/log";

// A CRM file's name. crm.item.get/list give a file as {id, url, urlMachine} — no name (b24restdocs
// api-reference/files/how-to-update-files.md) — and a download of urlMachine names it in Content-Disposition, as
// the file was uploaded (core crm/lib/controller/item.php getFileAction → BFile with the file's ORIGINAL_NAME,
// main/classes/general/file.php CFile::ViewByUser). So each file is named once, right after the read that saw it
// (urlMachine carries the reader's token, which expires), and the name is kept in CrmFileName; the tab and the CSV
// show it instead of "File #id" (lib/history/value-context.ts). Docs: docs/bitrix24.md#crm-file-names.

/** File id → urlMachine, gathered while a read's items become records (items.ts withoutMachineUrls). */
export type FileLinks = Map<number, string>;

/** Names asked for after one read at most; the others are asked after the record's next read. */
export const NAMES_PER_READ = 20;

/** Names the files of `links` not named yet: one ranged GET each, a slot of the portal's budget each. Never throws. */
export async function nameFiles(client: BitrixClient, links: FileLinks, lane: Lane): Promise<number> {
  if (!links.size) return 0;
  const portalId = client.portal.id;
  try {
    const db = getDb();
    const ids = [...links.keys()];
    const known = await db.crmFileName.findMany({
      where: { portalId, fileId: { in: ids } },
      select: { fileId: true },
    });
    const have = new Set(known.map((k) => k.fileId));
    const named: { portalId: string; fileId: number; name: string }[] = [];
    for (const fileId of ids.filter((id) => !have.has(id)).slice(0, NAMES_PER_READ)) {
      const name = await fileNameOf(client, links.get(fileId)!, lane);
      if (name) named.push({ portalId, fileId, name: name.slice(0, 255) });
    }
    if (named.length) await db.crmFileName.createMany({ data: named, skipDuplicates: true });
    return named.length;
  } catch (error) {
    log.warn({ portalId, err: error }, "could not name files; they show as File #id until a later read");
    return 0;
  }
}

/** The stored names of these files. */
export async function fileNames(portalId: string, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const rows = await getDb().crmFileName.findMany({
    where: { portalId, fileId: { in: [...new Set(ids)] } },
    select: { fileId: true, name: true },
  });
  return new Map(rows.map((r) => [r.fileId, r.name]));
}
