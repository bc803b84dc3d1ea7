"use client";
import { useState } from "react";
import { postJson } from "@/components/frame/session-fetch";
import type { Dict } from "@/lib/i18n";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";
import { BusyForm, SubmitRow } from "./busy-controls";

export interface NotifySettings {
  watchPaused: boolean;
  watchShowValues: boolean;
  watchNotifyResponsibleDefault: boolean;
}
type Text = Dict["notifySettings"] & Dict["saveButton"];

// The watch rules' notification settings (docs/watch-rules.md "Notification settings"), saved through
// POST /api/admin/settings; the server's answer (what is stored now) is shown back. "Send" is the pause, inverted:
// an admin thinks of notifications being on, not of a pause being off.
export function NotifySettingsForm({ initial, text }: { initial: NotifySettings; text: Text }) {
  const [s, setS] = useState(initial);
  const [state, run] = useBusy();
  const box = (key: keyof NotifySettings, label: string, invert = false) => (
    <label className={styles.check}>
      <input
        type="checkbox"
        name={key}
        checked={invert ? !s[key] : s[key]}
        onChange={(e) => setS({ ...s, [key]: invert ? !e.target.checked : e.target.checked })}
      />{" "}
      {label}
    </label>
  );
  return (
    <BusyForm
      run={run}
      work={async () => {
        const saved = await postJson("/api/admin/settings", s);
        setS({
          watchPaused: saved.watchPaused === true,
          watchShowValues: saved.watchShowValues === true,
          watchNotifyResponsibleDefault: saved.watchNotifyResponsibleDefault === true,
        });
        return text.saved;
      }}
    >
      {box("watchPaused", text.enabled, true)}
      {box("watchShowValues", text.values)}
      {box("watchNotifyResponsibleDefault", text.responsibleDefault)}
      <p className={styles.muted}>{text.hint}</p>
      <SubmitRow state={state} label={text.save} busyLabel={text.saving} />
    </BusyForm>
  );
}
