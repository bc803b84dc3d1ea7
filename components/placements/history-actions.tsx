"use client";
import { useState } from "react";
import { useRouter } from "next/navigation";
import { postJson } from "@/components/frame/session-fetch";
import styles from "@/components/admin/admin.module.css";

export function ExportButton({ entity, id, label, doneLabel }: { entity: string; id: number; label: string; doneLabel: string }) {
  const [state, setState] = useState<{ busy: boolean; message?: string }>({ busy: false });
  return (
    <div className={styles.actions}>
      <button type="button" className={styles.secondary} disabled={state.busy} onClick={async () => {
        setState({ busy: true });
        try {
          const r = await postJson("/api/history/export", { entity, id });
          setState({ busy: false, message: `${doneLabel}: ${String(r.name)}` });
        } catch (e) {
          setState({ busy: false, message: (e as Error).message });
        }
      }}>{label}</button>
      <span role="status" className={styles.status}>{state.message}</span>
    </div>
  );
}

export function RevertButton({ changeId, label, confirmText }: { changeId: string; label: string; confirmText: string }) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);
  return (
    <>
      <button type="button" className={styles.link} onClick={async () => {
        if (!window.confirm(confirmText)) return;
        try {
          const r = await postJson("/api/history/revert", { changeId });
          setMessage(r.status === "pending" ? "⏳" : "✓");
          router.refresh();
        } catch (e) {
          setMessage((e as Error).message);
        }
      }}>{label}</button>
      {message ? <span role="status"> {message}</span> : null}
    </>
  );
}
