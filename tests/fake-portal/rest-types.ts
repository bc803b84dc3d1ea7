import type { FakeBitrix, PortalState } from "./types";

export interface Ctx {
  fake: FakeBitrix;
  portal: PortalState;
  userId: number;
  token: string;
  isAdmin: boolean;
  viaWebhook: boolean;
  connector?: string;
}

export interface Paged {
  result: unknown;
  total?: number;
  next?: number;
}
export type MethodFn = (ctx: Ctx, params: Record<string, unknown>) => unknown;
export type MethodTable = Record<string, MethodFn>;

/** Marks a list answer so the envelope lifts total/next out of the result (docs/bitrix24.md#lists). */
export class ListAnswer implements Paged {
  constructor(
    readonly result: unknown,
    readonly total?: number,
    readonly next?: number,
  ) {}
}
