import "server-only";

export type CrmEntityType = "deal" | "contact" | "company" | "lead";

export interface CrmEventInput {
  portalId: string;
  entityType: CrmEntityType;
  action: "add" | "update" | "delete";
  entityId: number;
  userId?: number;
  receivedAt: Date;
}

/** Placeholder until the change-history capture lands (issue 6). */
export async function onCrmEvent(_input: CrmEventInput): Promise<void> {}
