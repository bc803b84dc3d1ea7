"use client";
import type { ReactNode } from "react";

/**
 * The status line's "Fix it" link to a card inside a closed disclosure (the Diagnostics): the disclosure is opened
 * before the browser follows the link, so the card it scrolls to is there. Without scripts Chromium opens it itself
 * (fragment navigation reveals a closed <details>), and the link still names where to look.
 */
export function FixLink({ href, className, children }: { href: string; className?: string; children: ReactNode }) {
  return (
    <a
      className={className}
      href={href}
      onClick={() => {
        const target = document.getElementById(href.slice(1));
        const details = target?.closest("details");
        if (details) details.open = true;
      }}
    >
      {children}
    </a>
  );
}
