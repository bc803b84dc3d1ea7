"use client";
import { useEffect, useRef, useSyncExternalStore } from "react";

// A confirmation in Bitrix24's look (its popups: a title, the question, a green primary button and a plain cancel)
// instead of the browser's confirm(), which Bitrix24's own pages never show. One host per page; ask() resolves
// true only on the primary button.
interface Question {
  title: string;
  text: string;
  ok: string;
  cancel: string;
  resolve: (yes: boolean) => void;
}
let current: Question | null = null;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export function ask(q: Omit<Question, "resolve">): Promise<boolean> {
  current?.resolve(false);
  return new Promise((resolve) => {
    current = { ...q, resolve };
    emit();
  });
}

function answer(yes: boolean) {
  const q = current;
  current = null;
  emit();
  q?.resolve(yes);
}

export function ConfirmHost() {
  const q = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    () => current,
    () => null,
  );
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!q) return;
    ok.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && answer(false);
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [q]);
  if (!q) return null;
  return (
    <div className="popup-overlay">
      <div
        className="popup"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="popup-title"
        aria-describedby="popup-text"
      >
        <h2 id="popup-title" className="popup-title">
          {q.title}
        </h2>
        <p id="popup-text" className="popup-text">
          {q.text}
        </p>
        <div className="popup-buttons">
          <button ref={ok} type="button" className="btn btn-success" onClick={() => answer(true)}>
            {q.ok}
          </button>
          <button type="button" className="btn btn-link" onClick={() => answer(false)}>
            {q.cancel}
          </button>
        </div>
      </div>
    </div>
  );
}
