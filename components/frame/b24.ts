"use client";
import type { B24Frame } from "@bitrix24/b24jssdk";

// ONE B24Frame per page for the page's lifetime: React StrictMode mounts effects twice, and a destroyed frame
// cannot be re-created (SDK-AND-FRAME.md). Loaded lazily so pages that never talk to the parent stay small.
let frame: Promise<B24Frame | null> | null = null;

export function getB24(): Promise<B24Frame | null> {
  if (typeof window === "undefined" || window.parent === window) return Promise.resolve(null);
  frame ??= import("@bitrix24/b24jssdk")
    .then((m) => m.initializeB24Frame())
    .catch((e: unknown) => {
      console.error("B24Frame could not start", e); // visible in the browser console: the app still works, unframed
      return null;
    });
  return frame;
}
