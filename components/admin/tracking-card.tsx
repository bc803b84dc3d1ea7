"use client";
import { useState } from "react";
import { postJson } from "@/components/frame/session-fetch";
import type { Dict } from "@/lib/i18n";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";
import { SubmitRow } from "./busy-controls";

type Text = Dict["tracking"] & Dict["saveButton"];
interface TypeChoice {
  key: string;
  name: string;
  fields: { key: string; label: string }[];
}

// Which CRM types and fields keep a history (lib/admin/tracking.ts), saved through POST /api/admin/settings as what
// is left out — so a type or field that appears later is tracked. The server's answer is shown back.
export function TrackingForm({
  types,
  initial,
  text,
}: {
  types: TypeChoice[];
  initial: { untrackedTypes: string[]; untrackedFields: Record<string, string[]> };
  text: Text;
}) {
  const [offTypes, setOffTypes] = useState(new Set(initial.untrackedTypes));
  const [offFields, setOffFields] = useState(
    new Map(Object.entries(initial.untrackedFields).map(([k, v]) => [k, new Set(v)])),
  );
  const [state, run] = useBusy();
  const toggleType = (key: string, on: boolean) =>
    setOffTypes((prev) => {
      const next = new Set(prev);
      if (on) next.delete(key);
      else next.add(key);
      return next;
    });
  const toggleField = (type: string, field: string, on: boolean) =>
    setOffFields((prev) => {
      const next = new Map(prev);
      const set = new Set(next.get(type) ?? []);
      if (on) set.delete(field);
      else set.add(field);
      next.set(type, set);
      return next;
    });
  return (
    <form
      className={styles.settings}
      aria-label={text.hint}
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const untrackedFields = Object.fromEntries(
            [...offFields].filter(([, v]) => v.size).map(([k, v]) => [k, [...v]]),
          );
          const saved = await postJson("/api/admin/settings", { untrackedTypes: [...offTypes], untrackedFields });
          setOffTypes(new Set(saved.untrackedTypes as string[]));
          setOffFields(
            new Map(Object.entries(saved.untrackedFields as Record<string, string[]>).map(([k, v]) => [k, new Set(v)])),
          );
          return text.saved;
        });
      }}
    >
      <p className={styles.muted}>{text.hint}</p>
      {types.map((type) => {
        const off = offFields.get(type.key) ?? new Set<string>();
        const on = type.fields.filter((f) => !off.has(f.key)).length;
        return (
          <fieldset key={type.key} className={styles.trackType} data-type={type.key}>
            <label className={styles.check}>
              <input
                type="checkbox"
                checked={!offTypes.has(type.key)}
                onChange={(e) => toggleType(type.key, e.target.checked)}
              />
              <span>
                {type.name}: {text.keep}
              </span>
            </label>
            {type.fields.length > 0 && !offTypes.has(type.key) && (
              <details>
                <summary>
                  {text.fields} ({on} {text.of} {type.fields.length})
                </summary>
                <div className={styles.fieldList}>
                  {type.fields.map((f) => (
                    <label key={f.key} className={styles.check}>
                      <input
                        type="checkbox"
                        checked={!off.has(f.key)}
                        onChange={(e) => toggleField(type.key, f.key, e.target.checked)}
                      />
                      <span>{f.label}</span>
                    </label>
                  ))}
                </div>
              </details>
            )}
          </fieldset>
        );
      })}
      <SubmitRow state={state} label={text.save} busyLabel={text.saving} />
    </form>
  );
}
