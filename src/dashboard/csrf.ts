/**
 * @module dashboard/csrf
 * Cross-site request forgery defences for every dashboard form (OWASP CSRF cheat sheet):
 * - a same-origin check on every POST: `Origin` must be this origin; without it, `Sec-Fetch-Site`
 *   must say `same-origin` (or `none`, a user's own navigation);
 * - a synchronizer token: signed-in forms carry the session's random token (the session cookie is
 *   encrypted, so only pages we rendered know it); the sign-in form carries an HMAC of a random nonce
 *   kept in its own SameSite=Strict cookie (login CSRF).
 * Tokens are compared in constant time.
 */
import { constantTimeEqual, deriveKey, hmacWithKey, toBase64Url } from "../lib/crypto";
import { newToken } from "../lib/ids";

export const CSRF_FIELD = "_csrf";
export const SIGN_IN_NONCE_COOKIE = "passhook_sign_in";
const KEY_INFO = "passhook/v1/dashboard-sign-in-csrf";

/** Whether a POST comes from a page of this origin, as far as the browser tells. */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin !== null) return origin === new URL(req.url).origin;
  const site = req.headers.get("sec-fetch-site");
  return site === null || site === "same-origin" || site === "none";
}

export async function tokenMatches(presented: unknown, expected: string): Promise<boolean> {
  return typeof presented === "string" && presented.length > 0 && presented.length <= 200 && (await constantTimeEqual(presented, expected));
}

export function newSignInNonce(): string {
  return newToken(24);
}

export async function signInToken(env: Pick<Env, "MASTER_KEY">, nonce: string): Promise<string> {
  return toBase64Url(await hmacWithKey(await deriveKey(env.MASTER_KEY, KEY_INFO, "hmac"), `sign-in:${nonce}`));
}
