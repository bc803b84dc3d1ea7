"use client";
import { getB24 } from "@/components/frame/b24";

// The session of every client island (the admin page's and the CRM placements'): the session JWT goes in
// `Authorization: Bearer` and in links as `st` (works when the browser blocks third-party cookies). It is renewed
// through B24Frame (refreshAuth, then POST /api/auth/frame) shortly before it expires and on a 401, and the request
// is retried once — no visible error. A placement's session is bound to its record: the renewal names it again.
let token: string | null = null;
let expiresAt = 0;
let record: { entity: string; id: number } | null = null;
let renewing: Promise<string | null> | null = null;
const RENEW_AHEAD_MS = 60_000;

export function setSessionToken(t: string, expires?: number, rec?: { entity: string; id: number }) {
  token = t;
  if (expires) expiresAt = expires;
  if (rec) record = rec;
}

async function exchange(): Promise<string | null> {
  const b24 = await getB24();
  if (!b24) return null;
  await b24.auth.refreshAuth();
  const auth = b24.auth.getAuthData();
  if (!auth) return null;
  const res = await fetch("/api/auth/frame", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ AUTH_ID: auth.access_token, member_id: auth.member_id, LANG: b24.getLang?.(), ...record }),
  });
  if (!res.ok) return null;
  const body = (await res.json()) as { token: string; expiresAt?: number };
  setSessionToken(body.token, body.expiresAt);
  return token;
}

/** A new session from the frame's refreshed auth, shared by concurrent callers; null outside a frame or refused. */
export function renewSession(rec?: { entity: string; id: number }): Promise<string | null> {
  if (rec) record = rec;
  renewing ??= exchange().finally(() => {
    renewing = null;
  });
  return renewing;
}

/** The token to send now: renewed first when it is about to expire (a link followed, a form sent, a call made). */
export async function freshToken(): Promise<string | null> {
  if (expiresAt && Date.now() > expiresAt - RENEW_AHEAD_MS) return (await renewSession()) ?? token;
  return token;
}

export async function sessionFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const send = (t: string | null) =>
    fetch(input, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(t ? { authorization: `Bearer ${t}` } : {}) },
    });
  const res = await send(await freshToken());
  if (res.status !== 401) return res;
  const fresh = await renewSession();
  return fresh ? send(fresh) : res;
}

/** An error carrying the server's answer: its status (a 409's conflict) and its message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** POST JSON through sessionFetch; a non-2xx answer becomes an HttpError carrying the server's message. */
export async function postJson(path: string, body?: object): Promise<Record<string, unknown>> {
  const res = await sessionFetch(path, {
    method: "POST",
    ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new HttpError(res.status, String(json.message ?? `HTTP ${res.status}`));
  return json;
}
