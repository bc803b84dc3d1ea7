import { z } from "zod";

// An event as Bitrix24 pushes it, after form decoding (docs/bitrix24.md#wire-format, #events): every leaf a string;
// `data` may be absent (ONOFFLINEEVENT) and `auth` may carry no OAuth tokens at all (robots, workflows, uninstall,
// method confirm).
const formValue: z.ZodType<unknown> = z.lazy(() => z.union([z.string(), z.record(z.string(), formValue)]));

export const IncomingEventSchema = z.object({
  event: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_]+$/, "must be an event name"),
  event_handler_id: z.string().max(20).optional(),
  data: z.record(z.string(), formValue).optional(),
  ts: z
    .string()
    .regex(/^\d{1,12}$/, "must be a unix timestamp")
    .optional(),
  auth: z.looseObject({
    member_id: z.string().regex(/^[a-zA-Z0-9]{1,64}$/, "must be a member_id"),
    application_token: z.string().min(1).max(128),
    domain: z.string().max(255).optional(),
    access_token: z.string().max(512).optional(),
    refresh_token: z.string().max(512).optional(),
    server_endpoint: z.string().max(512).optional(),
    client_endpoint: z.string().max(512).optional(),
    user_id: z.string().max(20).optional(),
  }),
});
export type IncomingEvent = z.infer<typeof IncomingEventSchema>;
