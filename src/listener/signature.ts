/**
 * @module listener/signature
 * Inbound signatures for listeners with a signing secret. Two schemes, either is enough:
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), HMAC-SHA256
 *   over `id.timestamp.body`, 5 minute tolerance both ways (spec "Verifying webhook authenticity").
 *   The key is the base64 after `whsec_` when the secret has that prefix (the libraries' default),
 *   else the secret's UTF-8 bytes (the libraries' raw format).
 * - `X-Passhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed by the secret's UTF-8
 *   bytes (GitHub's X-Hub-Signature-256 shape), for senders that can only sign the body.
 * Both are computed over the exact bytes received, before any decoding or parsing.
 */
import { constantTimeEqual, hmacSha256, toHex, utf8 } from "../lib/crypto";
import { err, ok, type Result } from "../lib/result";
import { signingKey, verifyStandardSignature } from "../lib/standard-webhooks";

export type SignatureFailure = { reason: "missing" | "bad_signature" | "bad_timestamp" };

export async function verifyListenerSignature(
  secret: string,
  headers: Headers,
  body: Uint8Array,
  nowSec: number,
): Promise<Result<{ scheme: "standard" } | { scheme: "hmac"; signature: string }, SignatureFailure>> {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const sig = headers.get("webhook-signature");
  if (id && ts && sig) {
    const r = await verifyStandardSignature(signingKey(secret), id, ts, body, sig, nowSec);
    return r.ok ? ok({ scheme: "standard" as const }) : err({ reason: r.error });
  }
  const plain = headers.get("x-passhook-signature");
  if (plain) {
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(plain.trim());
    if (!m) return err({ reason: "bad_signature" });
    const expected = toHex(await hmacSha256(utf8(secret), body));
    const given = m[1].toLowerCase();
    return (await constantTimeEqual(expected, given)) ? ok({ scheme: "hmac" as const, signature: given }) : err({ reason: "bad_signature" });
  }
  return err({ reason: "missing" });
}
