"use client";
import { useState } from "react";
import { useRouter } from "next/navigation";
import { postJson as post } from "@/components/frame/session-fetch";
import styles from "./admin.module.css";
import { ActionButton } from "./busy-controls";

interface Step {
  step: string;
  ok: boolean;
  detail: string;
  repaired?: boolean;
}

export function RebindButton({ label, busyLabel, doneLabel }: { label: string; busyLabel: string; doneLabel: string }) {
  const router = useRouter();
  return (
    <ActionButton
      label={label}
      busyLabel={busyLabel}
      work={async () => {
        const r = await post("/api/admin/rebind");
        router.refresh();
        return `${doneLabel}: ${(r.bound as string[]).length} ↺`;
      }}
    />
  );
}

export function DiagnosticsButton({
  label,
  busyLabel,
  reportTitle,
}: {
  label: string;
  busyLabel: string;
  reportTitle: string;
}) {
  const [busy, setBusy] = useState(false);
  const [steps, setSteps] = useState<Step[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div>
      <button
        type="button"
        className={styles.secondary}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            setSteps(((await post("/api/admin/diagnostics")).steps as Step[]) ?? []);
          } catch (e) {
            setError((e as Error).message);
          }
          setBusy(false);
        }}
      >
        {busy ? busyLabel : label}
      </button>
      {error ? (
        <p role="alert" className={styles.error}>
          {error}
        </p>
      ) : null}
      {steps ? (
        <ol aria-label={reportTitle} className={styles.report}>
          {steps.map((s) => (
            <li key={s.step} data-ok={s.ok}>
              <strong>
                {s.ok ? "✓" : "✗"} {s.step}
              </strong>
              {s.repaired ? " (repaired)" : ""} — {s.detail}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

export function RerunButton({ id, label }: { id: string; label: string }) {
  const router = useRouter();
  const [status, setStatus] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className={styles.link}
        onClick={async () => {
          try {
            setStatus(String((await post(`/api/admin/pending/${id}`)).status));
            router.refresh();
          } catch (e) {
            setStatus((e as Error).message);
          }
        }}
      >
        {label}
      </button>
      {status ? <span role="status"> {status}</span> : null}
    </>
  );
}
