/**
 * @module google/ecdsa
 * The byte-level helpers of Google's ECv2SigningOnly envelope (google-wallet.md §5): the
 * length-value concatenation that is signed, and the DER -> IEEE P1363 signature conversion that
 * WebCrypto needs. Google signs with ECDSA P-256/SHA-256 and sends ASN.1 DER signatures;
 * `crypto.subtle.verify` only accepts the raw 64-byte r||s form, so an unconverted signature
 * simply verifies as false. Pure, no I/O.
 */
import { fromBase64, utf8 } from "../lib/crypto";

/** P-256 scalars are 32 bytes. */
const SCALAR = 32;

/**
 * `LV(a) || LV(b) || ...`: each part as a 4-byte little-endian length of its UTF-8 bytes, then the
 * bytes (Tink PaymentMethodTokenUtil.toLengthValue; Google Pay "payment data cryptography").
 */
export function lengthValue(...parts: string[]): Uint8Array<ArrayBuffer> {
  const encoded = parts.map(utf8);
  const out = new Uint8Array(encoded.reduce((n, b) => n + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of encoded) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/**
 * Converts a DER `SEQUENCE { INTEGER r, INTEGER s }` to 64 bytes r||s. Returns null for anything
 * that is not exactly that shape (trailing bytes, negative or oversized integers, bad lengths), so
 * a malformed signature is a failed verification and never an exception.
 */
export function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | null {
  let at = 0;
  const readLength = (): number | null => {
    if (at >= der.length) return null;
    const first = der[at++];
    if (first < 0x80) return first;
    // Long form: only 0x81 is ever needed for a P-256 signature (at most 72 bytes).
    if (first !== 0x81 || at >= der.length) return null;
    const len = der[at++];
    return len >= 0x80 ? len : null;
  };
  const readInteger = (): Uint8Array | null => {
    if (der[at++] !== 0x02) return null;
    const len = readLength();
    if (len === null || len === 0 || at + len > der.length) return null;
    let bytes = der.subarray(at, at + len);
    at += len;
    if (bytes[0] & 0x80) return null; // negative: never a valid r or s
    while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length > SCALAR) return null;
    return bytes;
  };
  if (der[at++] !== 0x30) return null;
  const seqLen = readLength();
  if (seqLen === null || at + seqLen !== der.length) return null;
  const r = readInteger();
  const s = r && readInteger();
  if (!r || !s || at !== der.length) return null;
  const raw = new Uint8Array(SCALAR * 2);
  raw.set(r, SCALAR - r.length);
  raw.set(s, SCALAR * 2 - s.length);
  return raw;
}

/** Base64 that may fail: null instead of an exception. */
export function tryBase64(b64: unknown): Uint8Array<ArrayBuffer> | null {
  if (typeof b64 !== "string" || b64.length === 0 || b64.length > 4096) return null;
  try {
    return new Uint8Array(fromBase64(b64));
  } catch {
    return null;
  }
}

/** Imports a base64 DER SubjectPublicKeyInfo P-256 key for verification, or null. */
export async function importP256(spkiB64: unknown): Promise<CryptoKey | null> {
  const der = tryBase64(spkiB64);
  if (!der) return null;
  try {
    return await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    return null;
  }
}

/** Verifies a base64 DER ECDSA-SHA256 signature over `data`. Malformed input is `false`. */
export async function verifyDer(key: CryptoKey, signatureB64: unknown, data: Uint8Array): Promise<boolean> {
  const der = tryBase64(signatureB64);
  const raw = der && derToRaw(der);
  if (!raw) return false;
  try {
    return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, data);
  } catch {
    return false;
  }
}
