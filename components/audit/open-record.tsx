"use client";
import type { ReactNode } from "react";
import { getB24 } from "@/components/frame/b24";

// A result's record: inside the portal its card opens in a slider (b24jssdk slider.openPath → the parent's openPath,
// docs/history.md "Audit page"); without the frame or without JS the link is the record's Change history tab.
export function OpenRecord({ href, path, children }: { href: string; path: string | null; children: ReactNode }) {
  return (
    <a
      href={href}
      data-path={path ?? undefined}
      onClick={(e) => {
        if (!path || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        void getB24().then((b24) => {
          if (!b24) return void window.location.assign(href);
          // Resolves when the slider closes (or with the portal's error); nothing to do then but keep the page.
          b24.slider.openPath(b24.slider.getUrl(path)).catch(() => window.location.assign(href));
        });
      }}
    >
      {children}
    </a>
  );
}
