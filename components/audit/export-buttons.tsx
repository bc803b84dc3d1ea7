"use client";
import { useEffect, useState } from "react";
import { postJson, sessionFetch } from "@/components/frame/session-fetch";
import styles from "@/components/admin/admin.module.css";
import type { Dict } from "@/lib/i18n";

// "Export CSV" / "Export XLSX" of the Audit page's current search (POST /api/admin/exports), then a progress line that
// polls GET /api/admin/exports/<id> every 1.5 s until the job ends with a link to each file in the admin's Drive
// (lib/history/audit-export.ts, docs/history.md "Exporting a search").
export type ExportText = Dict["exportButtons"];
interface ExportState {
  id: string;
  status: string;
  rowsWritten: number;
  totalEstimate: number | null;
  error: string | null;
  files: { name: string; url: string | null; rows: number }[];
}
const POLL_MS = 1500;
const fill = (s: string, v: Record<string, string | number>) =>
  s.replace(/\{(\w+)\}/g, (_, k: string) => String(v[k] ?? ""));

export function ExportButtons({ filters, text }: { filters: Record<string, string | number>; text: ExportText }) {
  const [job, setJob] = useState<ExportState | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const active = job !== null && (job.status === "queued" || job.status === "running");
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(async () => {
      const res = await sessionFetch(`/api/admin/exports/${job.id}`);
      if (res.ok) setJob((await res.json()) as ExportState);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [active, job?.id]);
  const start = async (format: "csv" | "xlsx") => {
    setMessage(null);
    try {
      setJob((await postJson("/api/admin/exports", { format, filters })) as unknown as ExportState);
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  let line: string | null = message;
  if (job && !message) {
    line =
      job.status === "queued"
        ? text.queued
        : job.status === "failed"
          ? fill(text.failed, { error: job.error ?? "" })
          : job.status === "done"
            ? fill(text.done, { rows: job.rowsWritten })
            : job.files.length > 0 ||
                (job.totalEstimate !== null && job.rowsWritten >= job.totalEstimate && job.totalEstimate > 0)
              ? text.uploading
              : fill(text.running, { rows: job.rowsWritten, total: job.totalEstimate ?? "…" });
  }
  return (
    <div className={styles.actions} aria-label={text.title} role="group">
      <button type="button" className={styles.secondary} disabled={active} onClick={() => start("csv")}>
        {text.csv}
      </button>
      <button type="button" className={styles.secondary} disabled={active} onClick={() => start("xlsx")}>
        {text.xlsx}
      </button>
      <span role="status" aria-live="polite" className={styles.status}>
        {line}
        {job?.status === "done" &&
          job.files.map((f, k) => (
            <span key={f.name}>
              {" "}
              {f.url ? (
                <a href={f.url} target="_blank" rel="noreferrer">
                  {f.name}
                </a>
              ) : (
                f.name
              )}
              {job.files.length > 1 ? ` (${fill(text.part, { k: k + 1, n: job.files.length })})` : ""}
            </span>
          ))}
      </span>
    </div>
  );
}
