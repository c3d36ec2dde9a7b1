/**
 * @module dashboard/session
 * Dashboard sessions: an AES-GCM sealed cookie (key derived from MASTER_KEY with HKDF under its own
 * `info`), holding the project, the API key that signed in, issue and expiry times, and the
 * session's CSRF token. Nothing is stored server side; a session ends at its expiry, on sign-out
 * (the cookie is cleared), or as soon as its API key is deleted (checked on every request).
 */
import { deriveKey, openWithKey, sealWithKey } from "../lib/crypto";
import { newToken } from "../lib/ids";
import { err, ok, type Result } from "../lib/result";
import { HOUR } from "../lib/time";

/** How long a session lasts from sign-in (absolute, not sliding). */
export const SESSION_TTL = 8 * HOUR;
const KEY_INFO = "passhook/v1/dashboard-session";
const AAD = "dashboard-session";

export interface Session {
  v: 1;
  projectId: string;
  key: string;
  /** Issued at / expires at, ms since the epoch. */
  iat: number;
  exp: number;
  csrf: string;
}

export function newSession(projectId: string, key: string, now: number, ttl = SESSION_TTL): Session {
  return { v: 1, projectId, key, iat: now, exp: now + ttl, csrf: newToken(32) };
}

export async function sealSession(env: Pick<Env, "MASTER_KEY">, s: Session): Promise<string> {
  return sealWithKey(await deriveKey(env.MASTER_KEY, KEY_INFO, "aes-gcm"), JSON.stringify(s), AAD);
}

export type SessionFailure = { reason: "missing" | "invalid" | "expired" };

export async function openSession(env: Pick<Env, "MASTER_KEY">, value: string | undefined, now: number): Promise<Result<Session, SessionFailure>> {
  if (!value) return err({ reason: "missing" });
  if (value.length > 4096) return err({ reason: "invalid" });
  const text = await openWithKey(await deriveKey(env.MASTER_KEY, KEY_INFO, "aes-gcm"), value, AAD);
  if (text === null) return err({ reason: "invalid" });
  let s: Session;
  try {
    s = JSON.parse(text);
  } catch {
    return err({ reason: "invalid" });
  }
  if (s?.v !== 1 || typeof s.projectId !== "string" || typeof s.key !== "string" || typeof s.csrf !== "string" || typeof s.exp !== "number") {
    return err({ reason: "invalid" });
  }
  if (now >= s.exp || now < s.iat - 60_000) return err({ reason: "expired" });
  return ok(s);
}

// --- the cookie ---------------------------------------------------------------------------------

/** `__Host-` (Secure, Path=/, no Domain) wherever the cookie can be Secure. */
export const cookieName = (secure: boolean) => (secure ? "__Host-passhook_session" : "passhook_session");

export function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number): string {
  return [`${cookieName(secure)}=${value}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])].join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", secure, 0);
}
