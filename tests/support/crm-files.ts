import type { PortalState } from "../fake-portal/types";

// The fake keeps a CRM file's name and bytes apart from the field's value, as Bitrix24 keeps b_file (the field holds
// {id, …} with no name: tests/fake-portal/methods-files.ts storeCrmFile). These read them back for assertions.

const idsIn = (value: unknown) => [value].flat().map((v) => Number((v as { id?: unknown } | null)?.id ?? v));

/** The names of the files a field value holds, in order; "?" for a file the portal does not keep. */
export const fileNamesIn = (state: PortalState, value: unknown): string[] =>
  idsIn(value).map((id) => state.disk.crmFiles.get(id)?.name ?? "?");

/** The bytes of the one file a field value holds. */
export const fileSizeIn = (state: PortalState, value: unknown): number | undefined =>
  state.disk.crmFiles.get(idsIn(value)[0]!)?.content.length;

/** A file the portal holds, as an upload leaves it: its name and bytes kept, the field's value {id, showUrl, downloadUrl}. */
export function portalFile(state: PortalState, id: number, name: string, content = "data") {
  state.disk.crmFiles.set(id, { name, content: Buffer.from(content) });
  const link = `/bitrix/components/bitrix/crm.deal.show/show_file.php?fileId=${id}`;
  return { id, showUrl: link, downloadUrl: link };
}
