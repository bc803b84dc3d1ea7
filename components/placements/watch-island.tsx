"use client";
import { useState } from "react";
import { postJson, sessionFetch } from "@/components/frame/session-fetch";
import type { Dict } from "@/lib/i18n";
import styles from "./watch-island.module.css";

// "Notify me…" on the CRM tab (docs/watch-rules.md "From the CRM tab"): the user's own watch rules for this record's
// type through /api/watch-rules with the tab's session — add one (fields the tab knows, changed or cleared, only
// records they are responsible for) and see and delete theirs. A native disclosure: keyboard and screen readers know
// it, and the rules are read only when it is opened.
interface Rule {
  id: string;
  name: string;
  entityType: string;
  fields: string[];
  condition: string;
  onlyMine: boolean;
}
export type NotifyMeText = Dict["notifyMe"] & {
  watch: Pick<Dict["watchRules"], "condition" | "changed" | "cleared" | "remove" | "adding">;
};

export function NotifyMe({
  entity,
  typeName,
  fields,
  text,
}: {
  entity: string;
  typeName: string;
  fields: { value: string; label: string }[];
  text: NotifyMeText;
}) {
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [condition, setCondition] = useState("changed");
  const [onlyMine, setOnlyMine] = useState(true);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const label = (f: string) => fields.find((x) => x.value === f)?.label ?? f;
  const load = async () => {
    const res = await sessionFetch("/api/watch-rules?mine=1");
    const body = (await res.json().catch(() => ({}))) as { rules?: Rule[]; message?: string };
    if (!res.ok) return setMessage(String(body.message ?? `HTTP ${res.status}`));
    setRules((body.rules ?? []).filter((r) => r.entityType === entity));
  };
  const add = async () => {
    setBusy(true);
    const name = `${typeName}: ${picked.map(label).join(", ") || text.anyField}`.slice(0, 120);
    try {
      const rule = (await postJson("/api/watch-rules", {
        name,
        entityType: entity,
        fields: picked,
        condition,
        onlyMine,
      })) as unknown as Rule;
      setRules([rule, ...(rules ?? [])]);
      setPicked([]);
      setMessage(text.added);
    } catch (e) {
      setMessage((e as Error).message);
    }
    setBusy(false);
  };
  const remove = async (r: Rule) => {
    const res = await sessionFetch(`/api/watch-rules/${r.id}`, { method: "DELETE" });
    if (res.ok) setRules((rules ?? []).filter((x) => x.id !== r.id));
    else setMessage(`HTTP ${res.status}`);
  };
  return (
    <details
      className={styles.box}
      data-notify-me=""
      onToggle={(e) => {
        if (e.currentTarget.open && !rules) void load();
      }}
    >
      <summary className={styles.summary}>{text.title}</summary>
      <p className={styles.hint}>{text.hint}</p>
      <form
        className={styles.form}
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        {fields.length ? (
          <fieldset className={styles.fields}>
            <legend>{text.fields}</legend>
            {fields.map((f) => (
              <label key={f.value} className={styles.check}>
                <input
                  type="checkbox"
                  checked={picked.includes(f.value)}
                  onChange={(e) =>
                    setPicked(e.target.checked ? [...picked, f.value] : picked.filter((x) => x !== f.value))
                  }
                />{" "}
                {f.label}
              </label>
            ))}
          </fieldset>
        ) : null}
        <div className={styles.row}>
          <label className={styles.ctl}>
            <span>{text.watch.condition}</span>
            <select value={condition} onChange={(e) => setCondition(e.target.value)}>
              <option value="changed">{text.watch.changed}</option>
              <option value="cleared">{text.watch.cleared}</option>
            </select>
          </label>
          <label className={styles.check}>
            <input type="checkbox" checked={onlyMine} onChange={(e) => setOnlyMine(e.target.checked)} /> {text.onlyMine}
          </label>
        </div>
        <div className={styles.row}>
          <button type="submit" className="btn btn-light" disabled={busy}>
            {busy ? text.watch.adding : text.add}
          </button>
          <span role="status" className={styles.status}>
            {message}
          </span>
        </div>
      </form>
      <h2 className={styles.title}>{text.yours}</h2>
      {rules && !rules.length ? <p className={styles.hint}>{text.none}</p> : null}
      {rules?.length ? (
        <ul className={styles.list} aria-label={text.yours}>
          {rules.map((r) => (
            <li key={r.id}>
              <span>
                <strong>{r.name}</strong> · {r.condition === "cleared" ? text.watch.cleared : text.watch.changed}
                {r.onlyMine ? ` · ${text.onlyMine}` : ""}
              </span>{" "}
              <button
                type="button"
                className="link"
                aria-label={`${text.watch.remove}: ${r.name}`}
                onClick={() => void remove(r)}
              >
                {text.watch.remove}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}
