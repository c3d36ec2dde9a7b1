/**
 * @module lib/crypto
 * The only place that touches WebCrypto: random tokens, hashes, HMAC, constant-time comparison and
 * AES-256-GCM for secrets at rest. Pure functions of their inputs; the only module state is a cache of
 * imported keys.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

export async function sha256Hex(input: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input))));
}

export async function hmacSha256(key: Uint8Array, message: string | Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const data = typeof message === "string" ? encoder.encode(message) : message;
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

/**
 * Compares two strings in time independent of where they differ. Both are hashed first so unequal
 * lengths take the same path (timingSafeEqual needs equal lengths).
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

// --- AES-256-GCM for secrets at rest --------------------------------------------------------------

const keyCache = new Map<string, Promise<CryptoKey>>();

function importMasterKey(masterKeyB64: string): Promise<CryptoKey> {
  let key = keyCache.get(masterKeyB64);
  if (!key) {
    let raw: Uint8Array;
    try {
      raw = fromBase64(masterKeyB64);
    } catch {
      throw new Error("MASTER_KEY is not valid base64");
    }
    if (raw.length !== 32) throw new Error("MASTER_KEY must be 32 bytes of base64");
    key = crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    keyCache.set(masterKeyB64, key);
  }
  return key;
}

/**
 * Encrypts `plaintext` under MASTER_KEY. `context` is bound as additional data (e.g. the project id
 * and purpose), so a ciphertext copied to another row does not decrypt there.
 * Format: `v1.<iv base64>.<ciphertext base64>`.
 */
export async function encryptSecret(masterKeyB64: string, plaintext: string, context: string): Promise<string> {
  const key = await importMasterKey(masterKeyB64);
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(plaintext),
  );
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(ct))}`;
}

export async function decryptSecret(masterKeyB64: string, sealed: string, context: string): Promise<string> {
  const [version, ivB64, ctB64] = sealed.split(".");
  if (version !== "v1" || !ivB64 || !ctB64) throw new Error("unknown secret format");
  const key = await importMasterKey(masterKeyB64);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(ivB64), additionalData: encoder.encode(context) },
    key,
    fromBase64(ctB64),
  );
  return decoder.decode(pt);
}

// --- Keys derived from MASTER_KEY (HKDF-SHA256, RFC 5869) ------------------------------------------
// One master secret, many purposes: each use names its own `info`, so a key for one purpose (dashboard
// sessions, holder-page tokens) is independent of every other and of the at-rest AES key above.

const derivedCache = new Map<string, Promise<CryptoKey>>();

export type DerivedKeyUse = "aes-gcm" | "hmac";

/** A non-extractable key for `use`, derived from MASTER_KEY with HKDF-SHA256 under `info`. */
export function deriveKey(masterKeyB64: string, info: string, use: DerivedKeyUse): Promise<CryptoKey> {
  const id = `${use}\u0000${info}\u0000${masterKeyB64}`;
  let key = derivedCache.get(id);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", fromBase64(masterKeyB64), "HKDF", false, ["deriveKey"]);
      const hkdf = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(info) };
      return use === "aes-gcm"
        ? crypto.subtle.deriveKey(hkdf, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
        : crypto.subtle.deriveKey(hkdf, base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
    })();
    key.catch(() => derivedCache.delete(id));
    derivedCache.set(id, key);
  }
  return key;
}

export async function hmacWithKey(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("not base64url");
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}

/** AES-GCM with a derived key: `<iv base64url>.<ciphertext base64url>`, `aad` bound as additional data. */
export async function sealWithKey(key: CryptoKey, plaintext: string, aad: string): Promise<string> {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, key, encoder.encode(plaintext));
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ct))}`;
}

/** The plaintext of `sealWithKey`, or null when the value is malformed, forged or sealed for another `aad`. */
export async function openWithKey(key: CryptoKey, sealed: string, aad: string): Promise<string | null> {
  const [ivB64, ctB64, extra] = sealed.split(".");
  if (!ivB64 || !ctB64 || extra !== undefined) return null;
  try {
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64Url(ivB64), additionalData: encoder.encode(aad) }, key, fromBase64Url(ctB64));
    return decoder.decode(pt);
  } catch {
    return null;
  }
}
