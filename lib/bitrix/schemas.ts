import { z } from "zod";

// Raw Bitrix24 shapes (B24*), parsed at the edge. `time` may vary in composition (docs/bitrix24.md#errors).
export const B24TimeSchema = z
  .object({
    start: z.number().optional(),
    finish: z.number().optional(),
    duration: z.number().optional(),
    processing: z.number().optional(),
    date_start: z.string().optional(),
    date_finish: z.string().optional(),
    operating: z.number().optional(),
    operating_reset_at: z.number().nullable().optional(),
  })
  .loose();

export const B24SuccessSchema = z.object({
  result: z.unknown(),
  total: z.coerce.number().optional(),
  next: z.coerce.number().optional(),
  time: B24TimeSchema.optional(),
});

export const B24ErrorSchema = z.object({
  error: z.string().min(1),
  error_description: z.string().optional(),
});

/** REST v3: {"error": {"code": "...", "message": "..."}} (docs/bitrix24.md#errors) */
export const B24V3ErrorSchema = z.object({
  error: z.object({ code: z.string().min(1), message: z.string().optional() }).loose(),
});

/** Empty PHP maps arrive as [] (docs/bitrix24.md#batch). */
const phpMap = <T extends z.ZodType>(v: T) =>
  z.union([z.record(z.string(), v), z.array(z.never()).transform(() => ({}))]);

export const B24BatchResultSchema = z.object({
  result: phpMap(z.unknown()),
  result_error: phpMap(z.object({ error: z.string(), error_description: z.string().optional().default("") })),
  result_total: phpMap(z.coerce.number()).optional().default({}),
  result_next: phpMap(z.coerce.number()).optional().default({}),
  result_time: phpMap(z.unknown()).optional(),
});

/** oauth.bitrix.info answer to a token grant (docs/bitrix24.md#oauth). */
export const B24OAuthTokenSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires: z.coerce.number().optional(),
  expires_in: z.coerce.number().positive(),
  scope: z.string().default(""),
  domain: z.string().optional(),
  server_endpoint: z.string().min(1),
  client_endpoint: z.string().min(1),
  member_id: z.string().min(1),
  user_id: z.coerce.number().optional(),
  status: z.string().optional(),
});
