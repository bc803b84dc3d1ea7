import { diskFileContent } from "../methods-files";
import type { PortalState } from "../types";
import { esc } from "./esc";

// The portal's Drive as a person browses it: "My Drive" lists the files the user uploaded (name, size, time), and a
// file's page — the DETAIL_URL disk.folder.uploadfile answers with (`/docs/file/<name>`) — shows it with the first
// lines of a text file, as Drive's viewer would. Test infrastructure for the browser specs; the REST side is
// methods-files.ts.

const mine = (portal: PortalState, userId: number) =>
  [...portal.disk.files.values()].filter((f) => f.TYPE === "file" && Number(f.CREATED_BY) === userId);

export function drivePage(portal: PortalState, userId: number): string {
  const rows = mine(portal, userId)
    .map(
      (f) => `<tr><td><a href="/docs/file/${encodeURIComponent(String(f.NAME))}">${esc(f.NAME)}</a></td>
<td>${esc(f.SIZE)} bytes</td><td>${esc(f.CREATE_TIME)}</td></tr>`,
    )
    .join("");
  return `<h1>My Drive</h1>${rows ? `<table><tr><th>Name</th><th>Size</th><th>Uploaded</th></tr>${rows}</table>` : "<p>No files.</p>"}`;
}

export function driveFilePage(portal: PortalState, userId: number, name: string): string | null {
  const file = mine(portal, userId).findLast((f) => f.NAME === name);
  if (!file) return null;
  const content = diskFileContent(portal, Number(file.ID));
  const text =
    content && /\.(csv|txt)$/i.test(name)
      ? content
          .toString("utf8")
          .replace(/^\uFEFF/, "")
          .split(/\r?\n/)
          .slice(0, 6)
          .join("\n")
      : "";
  return `<h1>${esc(file.NAME)}</h1><p>${esc(file.SIZE)} bytes · uploaded ${esc(file.CREATE_TIME)}</p>${text ? `<pre class="card" aria-label="Preview">${esc(text)}</pre>` : ""}`;
}
