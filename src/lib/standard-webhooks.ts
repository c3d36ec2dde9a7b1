/**
 * @module lib/standard-webhooks
 * Standard Webhooks v1 signatures (spec: standard-webhooks.md, "Signature scheme"): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}`, base64, sent as `v1,<sig>`; several signatures are
 * space-separated (secret rotation). Used both ways: the listener verifies, callbacks sign.
 */
import { constantTimeEqual, fromBase64, hmacSha256, toBase64, utf8 } from "./crypto";
import { err, ok, type Result } from "./result";

export const SECRET_PREFIX = "whsec_";
/** Spec: "within allowable tolerance"; the reference libraries use 5 minutes both ways. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/**
 * The HMAC key of a secret: the base64 after `whsec_` (the libraries' default format), otherwise the
 * secret's UTF-8 bytes (their `raw` format).
 */
export function signingKey(secret: string): Uint8Array {
  if (secret.startsWith(SECRET_PREFIX)) {
    try {
      return fromBase64(secret.slice(SECRET_PREFIX.length));
    } catch {
      /* not base64: fall through to raw bytes */
    }
  }
  return utf8(secret);
}

/** `body` as text (what we send) or as the exact bytes received (what we verify). */
export async function signStandard(key: Uint8Array, msgId: string, timestampSec: number | string, body: string | Uint8Array): Promise<string> {
  const head = utf8(`${msgId}.${timestampSec}.`);
  const tail = typeof body === "string" ? utf8(body) : body;
  const message = new Uint8Array(head.length + tail.length);
  message.set(head);
  message.set(tail, head.length);
  return `v1,${toBase64(await hmacSha256(key, message))}`;
}

export async function verifyStandardSignature(
  key: Uint8Array,
  msgId: string,
  timestampHeader: string,
  body: string | Uint8Array,
  signatureHeader: string,
  nowSec: number,
  toleranceSec = TIMESTAMP_TOLERANCE_SECONDS,
): Promise<Result<true, "bad_timestamp" | "bad_signature">> {
  if (!/^\d{1,15}$/.test(timestampHeader)) return err("bad_timestamp");
  const ts = Number(timestampHeader);
  if (Math.abs(nowSec - ts) > toleranceSec) return err("bad_timestamp");
  const expected = await signStandard(key, msgId, timestampHeader, body);
  let matched = false;
  // Every candidate is compared (no early exit); other versions (v1a, v2) are ignored, as the spec says.
  for (const candidate of signatureHeader.split(" ")) {
    if (candidate.startsWith("v1,") && (await constantTimeEqual(candidate, expected))) matched = true;
  }
  return matched ? ok(true) : err("bad_signature");
}
