/**
 * A throwaway stand-in for Google's callback signing chain (root key -> intermediate signing key ->
 * message), in the ECv2SigningOnly format of google-wallet.md §5. Shared by the workerd tests and
 * the local scripts (`npm run google:callback`, the fake's keys endpoint), so it uses WebCrypto only
 * and imports nothing: Node runs it directly with type stripping.
 *
 * Written independently of src/google: signatures are produced as WebCrypto's raw r||s and turned
 * into DER here, so the verifier's DER -> raw conversion is checked against a separate encoder.
 */

export const PROTOCOL = "ECv2SigningOnly";
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export interface KeyPairB64 {
  privateKey: CryptoKey;
  /** base64 DER SubjectPublicKeyInfo, as Google publishes keys. */
  publicKeyB64: string;
}

export interface Intermediate {
  privateKey: CryptoKey;
  /** The JSON string Google sends as `intermediateSigningKey.signedKey`. */
  signedKey: string;
  signatures: string[];
}

export function b64(bytes: Uint8Array | ArrayBuffer): string {
  const u = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of u) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** LV(a) || LV(b) ...: 4-byte little-endian length, then the UTF-8 bytes. */
export function lv(...parts: string[]): Uint8Array {
  const chunks: number[] = [];
  for (const p of parts) {
    const bytes = new TextEncoder().encode(p);
    const n = bytes.length;
    chunks.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff, ...bytes);
  }
  return new Uint8Array(chunks);
}

/** Raw 64-byte r||s -> DER SEQUENCE of two minimal positive INTEGERs. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const int = (x: Uint8Array): number[] => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    const body = [...x.subarray(i)];
    if (body[0] & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const seq = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return new Uint8Array([0x30, seq.length, ...seq]);
}

export async function signDerB64(key: CryptoKey, data: Uint8Array): Promise<string> {
  const raw = new Uint8Array(await crypto.subtle.sign(SIGN, key, data));
  return b64(rawToDer(raw));
}

export async function newEcKey(): Promise<KeyPairB64> {
  const pair = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKeyB64: b64((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer) };
}

export async function exportPrivateB64(key: CryptoKey): Promise<string> {
  return b64((await crypto.subtle.exportKey("pkcs8", key)) as ArrayBuffer);
}

export async function importPrivateB64(pkcs8B64: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", unb64(pkcs8B64), EC, true, ["sign"]);
}

/** The document GOOGLE_CALLBACK_KEYS_URL serves. */
export function rootKeysDocument(publicKeyB64: string, keyExpirationMs: number, protocolVersion = PROTOCOL) {
  return { keys: [{ keyValue: publicKeyB64, protocolVersion, keyExpiration: String(keyExpirationMs) }] };
}

/** An intermediate key signed by `root` for `senderId`, expiring at `keyExpirationMs`. */
export async function newIntermediate(root: CryptoKey, opts: { senderId: string; keyExpirationMs: number }): Promise<Intermediate> {
  const key = await newEcKey();
  const signedKey = JSON.stringify({ keyValue: key.publicKeyB64, keyExpiration: String(opts.keyExpirationMs) });
  const signatures = [await signDerB64(root, lv(opts.senderId, PROTOCOL, signedKey))];
  return { privateKey: key.privateKey, signedKey, signatures };
}

export interface CallbackMessageInput {
  classId: string;
  objectId: string;
  eventType: "save" | "del";
  expTimeMillis: number;
  nonce: string;
  count?: number;
}

/** A complete callback body, signed for `recipientId` (the issuer id) as Google does. */
export async function signedCallbackBody(opts: {
  intermediate: Intermediate;
  senderId: string;
  recipientId: string;
  message: CallbackMessageInput | string;
  protocolVersion?: string;
}): Promise<string> {
  const signedMessage = typeof opts.message === "string" ? opts.message : JSON.stringify({ count: 1, ...opts.message });
  const signature = await signDerB64(opts.intermediate.privateKey, lv(opts.senderId, opts.recipientId, PROTOCOL, signedMessage));
  return JSON.stringify({
    signature,
    intermediateSigningKey: { signedKey: opts.intermediate.signedKey, signatures: opts.intermediate.signatures },
    protocolVersion: opts.protocolVersion ?? PROTOCOL,
    signedMessage,
  });
}
