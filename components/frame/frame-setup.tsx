"use client";
import { useEffect } from "react";
import { getB24 } from "@/components/frame/b24";
import { setSessionToken } from "@/components/frame/session-fetch";

// Sets the frame's title and keeps its height fitted to the content (resizeWindow), once per page.
export function FrameSetup({ title, token }: { title: string; token: string }) {
  setSessionToken(token);
  useEffect(() => {
    let observer: ResizeObserver | null = null;
    void getB24().then((b24) => {
      if (!b24) return;
      void b24.parent.setTitle(title);
      // The body's height, not the document's scrollHeight: that never drops below the frame's current height.
      // The frame keeps its width (the portal's layout decides it); a scrollWidth would only ever widen it.
      const fit = () => void b24.parent.resizeWindow(window.innerWidth, Math.max(200, Math.ceil(document.body.getBoundingClientRect().height)));
      fit();
      observer = new ResizeObserver(fit);
      observer.observe(document.body);
    });
    return () => observer?.disconnect();
  }, [title]);
  return null;
}
