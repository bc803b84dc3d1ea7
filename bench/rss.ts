// Resident memory of a process group (Linux /proc): the stack starts each part detached, so npx and the node
// processes under it share the leader's group id. The part's own process is the group's largest node process.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcRss {
  pid: number;
  rssMb: number;
  cmd: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // the process ended meanwhile
  }
}

export function groupRss(pgid: number): ProcRss[] {
  const out: ProcRss[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state ppid pgrp …
    if (Number(fields[2]) !== pgid) continue;
    const kb = /VmRSS:\s+(\d+)/.exec(read(`/proc/${name}/status`) ?? "")?.[1];
    const cmd = (read(`/proc/${name}/cmdline`) ?? "").split("\0").join(" ").trim();
    if (kb) out.push({ pid: Number(name), rssMb: Number(kb) / 1024, cmd });
  }
  return out;
}

/** The group's main process: the largest by RSS. */
export function mainRss(pgid: number): ProcRss | null {
  return groupRss(pgid).sort((a, b) => b.rssMb - a.rssMb)[0] ?? null;
}
