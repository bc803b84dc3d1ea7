import type { ReactNode } from "react";
import "@/components/placements/history.css";

// The CRM placements' stylesheet, on the app's Bitrix24 tokens (app/b24-tokens.css, shared with the admin page).
export default function PlacementsLayout({ children }: { children: ReactNode }) {
  return children;
}
