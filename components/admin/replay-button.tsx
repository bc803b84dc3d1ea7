"use client";
import { useRouter } from "next/navigation";
import { postJson as post } from "@/components/frame/session-fetch";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";

/** The coverage card's Replay: the portal's dead-lettered events back to the queue (POST /api/admin/replay). */
export function ReplayButton({ label, busyLabel, doneLabel }: { label: string; busyLabel: string; doneLabel: string }) {
  const router = useRouter();
  const [state, run] = useBusy();
  return (
    <div className={styles.actions}>
      <button type="button" className={styles.secondary} disabled={state.busy} onClick={() => run(async () => {
        const r = await post("/api/admin/replay", {});
        router.refresh();
        return `${doneLabel}: ${Number(r.replayed)}`;
      })}>{state.busy ? busyLabel : label}</button>
      <span role="status" className={styles.status}>{state.message}</span>
    </div>
  );
}
