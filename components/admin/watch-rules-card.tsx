"use client";
import { useState } from "react";
import { postJson } from "@/components/frame/session-fetch";
import type { Dict } from "@/lib/i18n";
import type { RuleRow } from "@/lib/watch/rules";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";
import { BusyForm, ItemList, removeItem, SubmitRow } from "./busy-controls";

type Text = Dict["watchRules"] & { types: Record<string, string> };

// Portal watch rules (docs/watch-rules.md): an admin adds a rule that tells each record's responsible person and/or
// runs a Bitrix24 automation trigger; every rule of the portal is listed with a delete button.
// The "tell the responsible person" box starts as the portal's default (the Notifications card).
export function WatchRules({
  initial,
  text,
  notifyResponsible,
}: {
  initial: RuleRow[];
  text: Text;
  notifyResponsible: boolean;
}) {
  const [rules, setRules] = useState(initial);
  const [form, setForm] = useState({
    name: "",
    entityType: "deal",
    fields: "",
    condition: "changed",
    notifyResponsible,
    trigger: false,
    onlyMine: false,
  });
  const [state, run] = useBusy();
  const set = (k: keyof typeof form) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setForm({ ...form, [k]: e.target.type === "checkbox" ? Boolean(e.target.checked) : e.target.value });
  return (
    <div>
      <BusyForm
        run={run}
        work={async () => {
          const fields = form.fields
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean);
          const rule = await postJson("/api/watch-rules", {
            name: form.name,
            entityType: form.entityType,
            fields,
            condition: form.condition,
            scope: "portal",
            notifyResponsible: form.notifyResponsible,
            trigger: form.trigger,
            onlyMine: form.onlyMine,
          });
          setRules([rule as unknown as RuleRow, ...rules]);
        }}
      >
        <label>
          <span>{text.name}</span>
          <input name="name" required maxLength={120} value={form.name} onChange={set("name")} />
        </label>
        <label>
          <span>{text.type}</span>
          <select name="entityType" value={form.entityType} onChange={set("entityType")}>
            {Object.entries(text.types).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{text.fields}</span>
          <input name="fields" value={form.fields} onChange={set("fields")} placeholder="STAGE_ID, OPPORTUNITY" />
        </label>
        <label>
          <span>{text.condition}</span>
          <select name="condition" value={form.condition} onChange={set("condition")}>
            <option value="changed">{text.changed}</option>
            <option value="cleared">{text.cleared}</option>
          </select>
        </label>
        <label className={styles.check}>
          <input
            type="checkbox"
            name="notifyResponsible"
            checked={form.notifyResponsible}
            onChange={set("notifyResponsible")}
          />{" "}
          {text.notifyResponsible}
        </label>
        <label className={styles.check}>
          <input type="checkbox" name="trigger" checked={form.trigger} onChange={set("trigger")} /> {text.trigger}
        </label>
        <SubmitRow state={state} label={text.add} busyLabel={text.adding} />
      </BusyForm>
      <ItemList
        items={rules}
        none={text.none}
        line={(r) => (
          <>
            {text.types[r.entityType] ?? r.entityType} · {r.fields.join(", ") || "*"} ·{" "}
            {r.condition === "cleared" ? text.cleared : text.changed}
            {r.triggerCode ? (
              <>
                {" "}
                · <code>{r.triggerCode}</code>
              </>
            ) : null}{" "}
            <button
              type="button"
              className={styles.link}
              onClick={() => removeItem(`/api/watch-rules/${r.id}`, rules, r.id, setRules)}
            >
              {text.remove}
            </button>
          </>
        )}
      />
    </div>
  );
}
