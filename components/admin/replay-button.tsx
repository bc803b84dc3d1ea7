"use client";
import { useRouter } from "next/navigation";
import { postJson as post } from "@/components/frame/session-fetch";
import { ActionButton } from "./busy-controls";

/** The coverage card's Replay: the portal's dead-lettered events back to the queue (POST /api/admin/replay). */
export function ReplayButton({ label, busyLabel, doneLabel }: { label: string; busyLabel: string; doneLabel: string }) {
  const router = useRouter();
  return (
    <ActionButton
      tone="secondary"
      label={label}
      busyLabel={busyLabel}
      work={async () => {
        const r = await post("/api/admin/replay", {});
        router.refresh();
        return `${doneLabel}: ${Number(r.replayed)}`;
      }}
    />
  );
}
