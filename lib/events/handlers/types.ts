export interface InboxEvent {
  portalId: string;
  event: string;
  data: Record<string, unknown> | null;
  userId: number | null;
  receivedAt: Date;
}
