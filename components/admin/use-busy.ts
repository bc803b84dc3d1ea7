"use client";
import { useState } from "react";

/**
 * The state of an admin action (a button or a form that posts): busy while `work` runs, then its message — what it
 * returned, or the error's message. One place for the try/catch every admin control needs.
 */
export function useBusy() {
  const [state, setState] = useState<{ busy: boolean; message?: string }>({ busy: false });
  const run = async (work: () => Promise<string | void>) => {
    setState({ busy: true });
    try {
      setState({ busy: false, message: (await work()) ?? undefined });
    } catch (e) {
      setState({ busy: false, message: (e as Error).message });
    }
  };
  return [state, run] as const;
}
