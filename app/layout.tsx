import type { ReactNode } from "react";
import "./b24-tokens.css";
import "./globals.css";

export const metadata = { title: "Change History for Bitrix24" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
