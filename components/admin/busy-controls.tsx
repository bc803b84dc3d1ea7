"use client";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";

/** A form's submit button and its spoken outcome (`role="status"`): one row for every admin settings form. */
export function SubmitRow({ state, label, busyLabel }: { state: { busy: boolean; message?: string }; label: string;
  busyLabel: string }) {
  return (
    <div className={styles.actions}>
      <button type="submit" className={styles.primary} disabled={state.busy}>{state.busy ? busyLabel : label}</button>
      <span role="status" className={styles.status}>{state.message}</span>
    </div>
  );
}

/** A button that runs one admin action; what `work` returns (or its error) is announced next to it. */
export function ActionButton({ label, busyLabel, work, tone = "primary" }: { label: string; busyLabel: string;
  work: () => Promise<string>; tone?: "primary" | "secondary" }) {
  const [state, run] = useBusy();
  return (
    <div className={styles.actions}>
      <button type="button" className={styles[tone]} disabled={state.busy} onClick={() => run(work)}>
        {state.busy ? busyLabel : label}
      </button>
      <span role="status" className={styles.status}>{state.message}</span>
    </div>
  );
}
