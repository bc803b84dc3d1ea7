"use client";
import { getB24 } from "@/components/frame/b24";

// Authenticated fetch for client islands: the session JWT goes in `Authorization: Bearer` (works when the browser
// blocks third-party cookies). On 401 the frame's auth is renewed through B24Frame (refreshAuth) and exchanged for a
// new session, then the request is retried once — no visible error.
let token: string | null = null;
let renewing: Promise<string | null> | null = null;

export function setSessionToken(t: string) {
  token = t;
}

async function renew(): Promise<string | null> {
  const b24 = await getB24();
  if (!b24) return null;
  await b24.auth.refreshAuth();
  const auth = b24.auth.getAuthData();
  if (!auth) return null;
  const res = await fetch("/api/auth/frame", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ AUTH_ID: auth.access_token, member_id: auth.member_id, LANG: b24.getLang?.() }),
  });
  if (!res.ok) return null;
  token = ((await res.json()) as { token: string }).token;
  return token;
}

export async function sessionFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const send = (t: string | null) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), ...(t ? { authorization: `Bearer ${t}` } : {}) } });
  const res = await send(token);
  if (res.status !== 401) return res;
  renewing ??= renew().finally(() => { renewing = null; });
  const fresh = await renewing;
  return fresh ? send(fresh) : res;
}

/** POST JSON through sessionFetch; a non-2xx answer becomes an Error carrying the server's message. */
export async function postJson(path: string, body?: object): Promise<Record<string, unknown>> {
  const res = await sessionFetch(path, { method: "POST", ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}) });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(String(json.message ?? `HTTP ${res.status}`));
  return json;
}
