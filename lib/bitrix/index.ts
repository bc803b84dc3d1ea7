// lib/bitrix — the one Bitrix24 client. Everything server-side that talks to a portal or the OAuth server goes here.
export type * from "@/lib/bitrix/contract";
export { BitrixError, classifyBitrixCode, isBitrixError } from "@/lib/bitrix/errors";
export { bitrixFor, callWithToken, isIdempotent } from "@/lib/bitrix/client";
export { exchangeRefreshToken, allowedOAuthOrigin } from "@/lib/bitrix/oauth";
export { encodePhpQuery } from "@/lib/bitrix/php-query";
export { isAccessDenied, isNotFound } from "@/lib/bitrix/errors";
export { fileNameOf } from "@/lib/bitrix/file-name";
