/**
 * @module apple/auth-token
 * The pass's `authenticationToken` (apple-wallet.md §1.2): derived, never stored. HMAC-SHA256 of the
 * serial number under a key derived from MASTER_KEY (HKDF, info "apple-auth-token"), base64url: 43
 * characters, well over Apple's 16. It depends on the serial alone, so the web service checks a
 * token before it looks anything up: a wrong token on an unknown serial and on a known one take the
 * same path and the same time, and a 404 is only ever seen by someone holding a valid token.
 * (`passes.authentication_token` stays in the table from before and is not used for Apple.)
 */
import { constantTimeEqual, deriveKey, hmacWithKey, toBase64Url } from "../lib/crypto";
import { err, ok, type Result } from "../lib/result";

const KEY_INFO = "apple-auth-token";

export async function appleAuthToken(env: Pick<Env, "MASTER_KEY">, serialNumber: string): Promise<string> {
  const key = await deriveKey(env.MASTER_KEY, KEY_INFO, "hmac");
  return toBase64Url(await hmacWithKey(key, serialNumber));
}

export type ApplePassAuthFailure = { reason: "missing" | "malformed" | "mismatch" };

/** Checks `Authorization: ApplePass <token>` for `serialNumber` in constant time. */
export async function checkApplePassAuth(env: Pick<Env, "MASTER_KEY">, header: string | undefined, serialNumber: string): Promise<Result<true, ApplePassAuthFailure>> {
  const expected = await appleAuthToken(env, serialNumber);
  if (!header) return err({ reason: "missing" });
  const m = /^ApplePass\s+(\S{1,512})\s*$/i.exec(header);
  // Compare even a malformed header against the expected token: every refusal takes the same path.
  const equal = await constantTimeEqual(m?.[1] ?? "", expected);
  if (!m) return err({ reason: "malformed" });
  return equal ? ok(true) : err({ reason: "mismatch" });
}
