// Resident memory and CPU time of a process group (Linux /proc): the stack starts each part detached, so npx and the
// node processes under it share the leader's group id. The part's own process is the group's largest by RSS.
// CPU time does not depend on what else runs on the machine, so it is the figure to compare on a shared one.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcRss {
  pid: number;
  rssMb: number;
  cmd: string;
  /** user + system CPU seconds so far */
  cpuS: number;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // the process ended meanwhile
  }
}

function processes(match: (pgrp: number, cmd: string) => boolean): ProcRss[] {
  const out: ProcRss[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state ppid pgrp … utime (12th) stime (13th)
    const cmd = (read(`/proc/${name}/cmdline`) ?? "").split("\0").join(" ").trim();
    if (!match(Number(fields[2]), cmd)) continue;
    const kb = /VmRSS:\s+(\d+)/.exec(read(`/proc/${name}/status`) ?? "")?.[1];
    if (kb)
      out.push({
        pid: Number(name),
        rssMb: Number(kb) / 1024,
        cmd,
        cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S,
      });
  }
  return out;
}

export function groupRss(pgid: number): ProcRss[] {
  return processes((pgrp) => pgrp === pgid);
}

/** CPU seconds of a whole group (npx and the shells under it add next to nothing). */
export function groupCpu(pgid: number): number {
  return groupRss(pgid).reduce((s, p) => s + p.cpuS, 0);
}

/** CPU seconds of the PostgreSQL backends serving one database (the pools keep their connections open). */
export function backendsCpu(database: string): number {
  return processes((_pgrp, cmd) => cmd.startsWith("postgres: ") && cmd.includes(` ${database} `)).reduce(
    (s, p) => s + p.cpuS,
    0,
  );
}

/** The group's main process: the largest by RSS. */
export function mainRss(pgid: number): ProcRss | null {
  return groupRss(pgid).sort((a, b) => b.rssMb - a.rssMb)[0] ?? null;
}
