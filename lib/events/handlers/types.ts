export interface InboxEvent {
  portalId: string;
  event: string;
  data: Record<string, unknown> | null;
  userId: number | null;
  receivedAt: Date;
  /** "online" | "offline" (an offline-queue row: one per object, however often it changed) */
  source?: string;
  /** an online event's `ts` (unix seconds, stamped by core in the hit that fired it) */
  ts?: string | null;
}
