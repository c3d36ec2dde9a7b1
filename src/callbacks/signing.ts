/**
 * @module callbacks/signing
 * Standard Webhooks signatures (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * "Signature scheme"): `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
 * space-separated when several secrets sign during a rotation. Secrets are `whsec_` + base64 key.
 * Outgoing callbacks are signed here with strict `whsec_` secrets; the HMAC itself lives in
 * lib/standard-webhooks, which the listener also uses to verify. The clock is passed in.
 */
import { fromBase64, randomBytes, toBase64 } from "../lib/crypto";
import { SECRET_PREFIX, signStandard, TIMESTAMP_TOLERANCE_SECONDS, verifyStandardSignature } from "../lib/standard-webhooks";

/** The spec's recommended default tolerance for `webhook-timestamp`, either side of now. */
export const DEFAULT_TOLERANCE_SECONDS = TIMESTAMP_TOLERANCE_SECONDS;

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the spec allows 24 to 64). */
export function newSigningSecret(): string {
  return SECRET_PREFIX + toBase64(randomBytes(32));
}

/** The raw HMAC key of a `whsec_` secret (the prefix is optional, as in the reference libraries). */
function secretKey(secret: string): Uint8Array {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let key: Uint8Array;
  try {
    key = fromBase64(b64);
  } catch {
    throw new Error("signing secret is not valid base64");
  }
  if (key.length === 0) throw new Error("signing secret is empty");
  return key;
}

/** One versioned signature, `v1,<base64>`, over `${msgId}.${timestampSec}.${body}`. */
export async function signature(secret: string, msgId: string, timestampSec: number, body: string): Promise<string> {
  return signStandard(secretKey(secret), msgId, timestampSec, body);
}

/**
 * The `webhook-signature` header value: one signature per secret, joined by a single space, so a
 * receiver holding either the new or the old secret verifies during a rotation.
 */
export async function signatureHeader(secrets: string[], msgId: string, timestampSec: number, body: string): Promise<string> {
  if (secrets.length === 0) throw new Error("at least one signing secret is required");
  const sigs = await Promise.all(secrets.map((s) => signature(s, msgId, timestampSec, body)));
  return sigs.join(" ");
}

/** Verifies a signature header made with a `whsec_` secret (timestamp tolerance both ways). */
export async function verifySignatureHeader(
  secret: string,
  msgId: string,
  timestampHeader: string,
  body: string,
  header: string,
  nowSec: number,
  toleranceSec = DEFAULT_TOLERANCE_SECONDS,
): Promise<boolean> {
  return (await verifyStandardSignature(secretKey(secret), msgId, timestampHeader, body, header, nowSec, toleranceSec)).ok;
}
