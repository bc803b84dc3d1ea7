"use client";
import { useState } from "react";
import { postJson } from "@/components/frame/session-fetch";
import type { ApiTokenInfo } from "@/lib/api/tokens";
import type { Dict } from "@/lib/i18n";
import styles from "./admin.module.css";
import { useBusy } from "./use-busy";
import { BusyForm, ItemList, removeItem, SubmitRow } from "./busy-controls";

// The JSON API's tokens (docs/api.md): create one (its plain token is shown here once), see when each was last used,
// revoke one. The list comes from the server page; changes go through /api/admin/api-tokens.
export function ApiTokens({ initial, text }: { initial: ApiTokenInfo[]; text: Dict["apiTokens"] }) {
  const [tokens, setTokens] = useState(initial);
  const [name, setName] = useState("");
  const [fresh, setFresh] = useState<string | null>(null);
  const [state, run] = useBusy();
  const [confirming, setConfirming] = useState<string | null>(null);
  return (
    <div>
      <BusyForm
        run={run}
        work={async () => {
          const created = await postJson("/api/admin/api-tokens", { name });
          setFresh(String(created.token));
          setTokens([
            {
              id: String(created.id),
              name: String(created.name),
              createdAt: new Date(String(created.createdAt)),
              lastUsedAt: null,
            },
            ...tokens,
          ]);
          setName("");
        }}
      >
        <label>
          <span>{text.name}</span>
          <input name="name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <SubmitRow state={state} label={text.create} busyLabel={text.creating} />
      </BusyForm>
      {fresh && (
        <p className={styles.notice} role="status">
          {text.shownOnce} <code data-api-token>{fresh}</code>
        </p>
      )}
      <ItemList
        items={tokens}
        none={text.none}
        line={(t) => (
          <>
            {text.lastUsed}: {t.lastUsedAt ? t.lastUsedAt.toLocaleString() : text.never}{" "}
            {confirming === t.id ? (
              <>
                <span>{text.revokeConfirm}</span>{" "}
                <button
                  type="button"
                  className={styles.link}
                  onClick={async () => {
                    await removeItem(`/api/admin/api-tokens/${t.id}`, tokens, t.id, setTokens);
                    setConfirming(null);
                  }}
                >
                  {text.revoke}
                </button>
              </>
            ) : (
              <button type="button" className={styles.link} onClick={() => setConfirming(t.id)}>
                {text.revoke}
              </button>
            )}
          </>
        )}
      />
    </div>
  );
}
