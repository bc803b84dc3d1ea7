"use client";
import { useEffect, useState } from "react";
import { postJson, sessionFetch } from "@/components/frame/session-fetch";
import { Progress } from "@/components/ui/ui";
import type { WorkProgress } from "@/lib/admin/progress";
import type { Dict } from "@/lib/i18n";
import styles from "./admin.module.css";

// The backfill and the queue drain, live: polls /api/admin/progress every 2 s while something runs, stops when idle.
export type LiveProgressText = Dict["liveProgress"] & { entities: Record<string, string> };
const POLL_MS = 2000;

export function LiveProgress({ initial, text }: { initial: WorkProgress; text: LiveProgressText }) {
  const [p, setP] = useState(initial);
  const [watch, setWatch] = useState(initial.active);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (!watch) return;
    const poll = async () => {
      const res = await sessionFetch("/api/admin/progress");
      if (!res.ok) return;
      const next = (await res.json()) as WorkProgress;
      setP(next);
      if (!next.active) setWatch(false);
    };
    void poll(); // at once: a pass that was just queued shows as pending, not as the last one's "done"
    const timer = setInterval(poll, POLL_MS);
    return () => clearInterval(timer);
  }, [watch]);
  const q = p.queue;
  return (
    <div aria-live="polite">
      <h3 className={styles.subTitle}>{text.backfill}</h3>
      {p.backfill.map((b) => (
        <Progress
          key={b.entityType}
          value={b.processed}
          max={b.total}
          label={`${text.entities[b.entityType] ?? b.entityType} — ${b.status}`}
        />
      ))}
      <div className={styles.actions}>
        <button
          type="button"
          className={styles.secondary}
          onClick={async () => {
            try {
              await postJson("/api/admin/backfill");
              setMessage(text.backfillQueued);
              setWatch(true);
            } catch (e) {
              setMessage((e as Error).message);
            }
          }}
        >
          {text.runBackfill}
        </button>
        <span role="status" className={styles.status}>
          {message}
        </span>
      </div>
      <h3 className={styles.subTitle}>{text.queue}</h3>
      <Progress value={q.done} max={q.done + q.waiting + q.dead} label={text.processed} />
      <p className={styles.muted}>
        {text.waiting}: {q.waiting}
        {q.dead ? ` · ${text.failedForGood}: ${q.dead}` : ""}
      </p>
      {!p.active ? <p className={styles.muted}>{text.idle}</p> : null}
    </div>
  );
}
