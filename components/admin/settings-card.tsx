"use client";
import { useState } from "react";
import { postJson } from "@/components/frame/session-fetch";
import type { Dict } from "@/lib/i18n";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";
import { BusyForm, SubmitRow } from "./busy-controls";

/** The plural "year|years" forms come already chosen, one per offered number of years. */
type Text = Omit<Dict["settings"], "retentionYears"> & Dict["saveButton"] & { retentionYears: string[] };

// The portal's settings (lib/admin/settings.ts): retention and the reconciliation sweep's period, saved through
// POST /api/admin/settings; the server's answer (what is stored now) is shown back.
export function SettingsForm({
  initial,
  text,
  years,
}: {
  initial: { retentionYears: number | null; reconcileEveryMin: number; revertPolicy: string };
  text: Text;
  years: readonly number[];
}) {
  const [retention, setRetention] = useState(initial.retentionYears === null ? "" : String(initial.retentionYears));
  const [every, setEvery] = useState(String(initial.reconcileEveryMin));
  const [policy, setPolicy] = useState(initial.revertPolicy);
  const [state, run] = useBusy();
  return (
    <BusyForm
      run={run}
      work={async () => {
        const saved = await postJson("/api/admin/settings", {
          retentionYears: retention === "" ? null : Number(retention),
          reconcileEveryMin: Number(every),
          revertPolicy: policy,
        });
        setRetention(saved.retentionYears === null ? "" : String(saved.retentionYears));
        setEvery(String(saved.reconcileEveryMin));
        setPolicy(String(saved.revertPolicy));
        return text.saved;
      }}
    >
      <label>
        <span>{text.retention}</span>
        <select name="retentionYears" value={retention} onChange={(e) => setRetention(e.target.value)}>
          <option value="">{text.retentionForever}</option>
          {years.map((y, i) => (
            <option key={y} value={y}>
              {y} {text.retentionYears[i]}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{text.reconcileEvery}</span>
        <input
          name="reconcileEveryMin"
          type="number"
          min={0}
          max={1440}
          step={1}
          value={every}
          onChange={(e) => setEvery(e.target.value)}
        />
      </label>
      <p className={styles.muted}>{text.retentionHint}</p>
      <label>
        <span>{text.revertPolicy}</span>
        <select name="revertPolicy" value={policy} onChange={(e) => setPolicy(e.target.value)}>
          <option value="editors">{text.revertEditors}</option>
          <option value="admins">{text.revertAdmins}</option>
        </select>
      </label>
      <SubmitRow state={state} label={text.save} busyLabel={text.saving} />
    </BusyForm>
  );
}
