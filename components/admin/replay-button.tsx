"use client";
import { useState } from "react";
import { useRouter } from "next/navigation";
import { postJson as post } from "@/components/frame/session-fetch";
import styles from "./admin.module.css";

/** The coverage card's Replay: the portal's dead-lettered events back to the queue (POST /api/admin/replay). */
export function ReplayButton({ label, busyLabel, doneLabel }: { label: string; busyLabel: string; doneLabel: string }) {
  const router = useRouter();
  const [state, setState] = useState<{ busy: boolean; message?: string }>({ busy: false });
  return (
    <div className={styles.actions}>
      <button type="button" className={styles.secondary} disabled={state.busy} onClick={async () => {
        setState({ busy: true });
        try {
          const r = await post("/api/admin/replay", {});
          setState({ busy: false, message: `${doneLabel}: ${Number(r.replayed)}` });
          router.refresh();
        } catch (e) {
          setState({ busy: false, message: (e as Error).message });
        }
      }}>{state.busy ? busyLabel : label}</button>
      <span role="status" className={styles.status}>{state.message}</span>
    </div>
  );
}
