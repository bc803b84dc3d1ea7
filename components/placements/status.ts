"use client";
import { useSyncExternalStore } from "react";

// The one status line of a placement page (role="status"): the export's and the revert's islands write to it.
let text = "";
const listeners = new Set<() => void>();

export function setStatus(next: string) {
  text = next;
  for (const l of listeners) l();
}

export function useStatus(): string {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    () => text,
    () => "",
  );
}
