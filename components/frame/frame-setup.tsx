"use client";
import { useEffect } from "react";
import { getB24 } from "@/components/frame/b24";
import { setSessionToken } from "@/components/frame/session-fetch";

// The page's frame, once per page (the admin page and the CRM placements): the session for the client islands, the
// title, and the frame's height fitted to the content (resizeWindow).
export interface FrameSession {
  title: string;
  token: string;
  expiresAt?: number;
  record?: { entity: string; id: number };
}

export function FrameSetup(frame: FrameSession) {
  setSessionToken(frame.token, frame.expiresAt, frame.record);
  useFittedFrame(frame.title);
  return null;
}

/**
 * A page without a session to hand to islands (the placements' refusal, "no such record", a malformed address): the
 * frame titled and fitted all the same, or Bitrix24 leaves the frame at whatever height it had.
 */
export function FrameFit({ title }: { title: string }) {
  useFittedFrame(title);
  return null;
}

function useFittedFrame(title: string) {
  useEffect(() => {
    let observer: ResizeObserver | null = null;
    void getB24().then((b24) => {
      if (!b24) return;
      // Bitrix24 refuses setTitle outside the app's main page (core components/bitrix/app.layout): in a CRM tab or
      // widget the SDK would only wait out its timer. Asked on the main page alone, and a refusal is no error.
      if (b24.placement.isDefault) b24.parent.setTitle(title).catch(() => undefined);
      // The body's height, not the document's scrollHeight: that never drops below the frame's current height.
      // The frame keeps its width (the portal's layout decides it); a scrollWidth would only ever widen it.
      const fit = () =>
        void b24.parent.resizeWindow(
          window.innerWidth,
          Math.max(200, Math.ceil(document.body.getBoundingClientRect().height)),
        );
      fit();
      observer = new ResizeObserver(fit);
      observer.observe(document.body);
    });
    return () => observer?.disconnect();
  }, [title]);
}
