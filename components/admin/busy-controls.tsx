"use client";
import { sessionFetch } from "@/components/frame/session-fetch";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";

/** A button and its spoken outcome (`role="status"`): every admin form's submit and every admin action. */
function ButtonRow({
  state,
  label,
  busyLabel,
  button,
}: {
  state: { busy: boolean; message?: string };
  label: string;
  busyLabel: string;
  button: { type: "submit" | "button"; className?: string; onClick?: () => void };
}) {
  return (
    <div className={styles.actions}>
      <button {...button} disabled={state.busy}>
        {state.busy ? busyLabel : label}
      </button>
      <span role="status" className={styles.status}>
        {state.message}
      </span>
    </div>
  );
}

/** A settings form's submit row. */
export function SubmitRow(p: { state: { busy: boolean; message?: string }; label: string; busyLabel: string }) {
  return <ButtonRow {...p} button={{ type: "submit", className: styles.primary }} />;
}

/** A button that runs one admin action; what `work` returns (or its error) is announced next to it. */
export function ActionButton(p: {
  label: string;
  busyLabel: string;
  work: () => Promise<string>;
  tone?: "primary" | "secondary";
}) {
  const [state, run] = useBusy();
  const button = { type: "button" as const, className: styles[p.tone ?? "primary"], onClick: () => void run(p.work) };
  return <ButtonRow state={state} label={p.label} busyLabel={p.busyLabel} button={button} />;
}

/** A settings form: the browser's own submit stopped, `work` run as the busy action its SubmitRow announces. */
export function BusyForm(p: {
  run: (work: () => Promise<string | void>) => Promise<void>;
  work: () => Promise<string | void>;
  children: React.ReactNode;
}) {
  return (
    <form
      className={styles.settings}
      onSubmit={(e) => {
        e.preventDefault();
        void p.run(p.work);
      }}
    >
      {p.children}
    </form>
  );
}

/** An admin card's list: "none" when it is empty, else a line per item, its name first. */
export function ItemList<T extends { id: string; name: string }>(p: {
  items: T[];
  none: string;
  line: (item: T) => React.ReactNode;
}) {
  if (!p.items.length) return <p className={styles.muted}>{p.none}</p>;
  return (
    <ul className={styles.report}>
      {p.items.map((item) => (
        <li key={item.id}>
          <strong>{item.name}</strong> · {p.line(item)}
        </li>
      ))}
    </ul>
  );
}

/** DELETEs one item; the list drops it only once the server has. */
export async function removeItem<T extends { id: string }>(
  url: string,
  items: T[],
  id: string,
  set: (next: T[]) => void,
) {
  const res = await sessionFetch(url, { method: "DELETE" });
  if (res.ok) set(items.filter((x) => x.id !== id));
}
