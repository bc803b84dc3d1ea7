import type { ReactNode } from "react";
import "@/components/placements/history.css";

// The CRM placements' stylesheet, on top of the app's Bitrix24 tokens (app/globals.css, shared with the admin page).
export default function PlacementsLayout({ children }: { children: ReactNode }) {
  return children;
}
