/**
 * @module apple/pki
 * The one door to pkijs and asn1js: sets pkijs's crypto engine to the runtime's WebCrypto once per
 * isolate, and reads PEM text into certificates and importable PKCS#8 keys (PKCS#1 and encrypted
 * PKCS#8 converted, legacy OpenSSL encryption refused with a way out). Failures are `PemError`s with
 * a reason, so validation can say which input is wrong. Nothing here logs or returns key material
 * in an error message.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

// apple-wallet.md §4.2 pitfall 4: pkijs registers globalThis.crypto at import, but set it anyway so no
// class finds an empty engine; the cast is needed because Workers' SubtleCrypto adds timingSafeEqual.
pkijs.setEngine("passhook", new pkijs.CryptoEngine({ name: "passhook", crypto: crypto as unknown as Crypto }) as unknown as pkijs.ICryptoEngine);

export { asn1js, pkijs };

export type PemReason =
  | "pem_missing"
  | "pem_too_large"
  | "der_invalid"
  | "legacy_encrypted_key"
  | "passphrase_required"
  | "passphrase_wrong"
  | "unsupported_encryption"
  | "unsupported_key_type";

export class PemError extends Error {
  constructor(
    readonly reason: PemReason,
    message: string,
  ) {
    super(message);
    this.name = "PemError";
  }
}

const MAX_PEM_CHARS = 64 * 1024;
export const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  uid: "0.9.2342.19200300.100.1.1",
} as const;

export interface PemBlock {
  label: string;
  headers: Record<string, string>;
  der: Uint8Array<ArrayBuffer>;
}

/** Every `-----BEGIN x-----` block of a PEM text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  if (typeof text !== "string") throw new PemError("pem_missing", "is not PEM text");
  if (text.length > MAX_PEM_CHARS) throw new PemError("pem_too_large", `is longer than ${MAX_PEM_CHARS} characters`);
  const out: PemBlock[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]{1,64})-----([\s\S]*?)-----END \1-----/g)) {
    const headers: Record<string, string> = {};
    const lines = m[2].split(/\r?\n/);
    const body: string[] = [];
    for (const line of lines) {
      const h = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
      if (h) headers[h[1]] = h[2];
      else body.push(line);
    }
    const b64 = body.join("").replace(/\s+/g, "");
    let der: Uint8Array<ArrayBuffer>;
    try {
      const bin = atob(b64);
      der = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
    } catch {
      throw new PemError("der_invalid", `has a ${m[1]} block that is not valid base64`);
    }
    out.push({ label: m[1], headers, der });
  }
  return out;
}

export function toPem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin);
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** The first CERTIFICATE block, parsed. */
export function readCertificatePem(text: string): pkijs.Certificate {
  const block = pemBlocks(text).find((b) => b.label === "CERTIFICATE");
  if (!block)
    throw new PemError("pem_missing", "has no -----BEGIN CERTIFICATE----- block (a DER .cer file converts with: openssl x509 -inform DER -in cert.cer -out cert.pem)");
  try {
    return pkijs.Certificate.fromBER(block.der);
  } catch {
    throw new PemError("der_invalid", "is not a readable X.509 certificate");
  }
}

// --- private keys ------------------------------------------------------------------------------------

const der = (tag: number, body: Uint8Array): Uint8Array => {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 255] : [0x83, n >> 16, (n >> 8) & 255, n & 255];
  return Uint8Array.from([tag, ...len, ...body]);
};
const RSA_ALGORITHM = Uint8Array.from([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);

/** Wraps a PKCS#1 RSAPrivateKey into PKCS#8 PrivateKeyInfo (§4.2 pitfall 1; byte-identical to openssl's). */
export function pkcs1ToPkcs8(rsa: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(der(0x30, Uint8Array.from([0x02, 0x01, 0x00, ...RSA_ALGORITHM, ...der(0x04, rsa)])));
}

export interface Pkcs8Key {
  /** PKCS#8 PrivateKeyInfo DER. */
  der: Uint8Array<ArrayBuffer>;
  /** OID of the key's algorithm (rsaEncryption, ecPublicKey). */
  algorithm: string;
  /** The curve OID for EC keys. */
  curve?: string;
}

/**
 * Reads a private key PEM into unencrypted PKCS#8: `PRIVATE KEY` as is, `RSA PRIVATE KEY` wrapped,
 * `ENCRYPTED PRIVATE KEY` decrypted with `passphrase` (PBES2 / PBKDF2 / AES-CBC, the OpenSSL 3 and
 * Keychain default). OpenSSL's legacy `Proc-Type: 4,ENCRYPTED` keys are refused with the command that
 * converts them. §4.2 pitfall 1: WebCrypto imports PKCS#8 only, and cannot decrypt on import.
 */
export async function readPrivateKeyPem(text: string, passphrase?: string): Promise<Pkcs8Key> {
  const blocks = pemBlocks(text);
  const block = blocks.find((b) => /^(RSA |EC |ENCRYPTED )?PRIVATE KEY$/.test(b.label));
  if (!block) throw new PemError("pem_missing", "has no -----BEGIN PRIVATE KEY----- block");
  if (block.headers["Proc-Type"]?.includes("ENCRYPTED"))
    throw new PemError(
      "legacy_encrypted_key",
      "is encrypted in OpenSSL's legacy PEM format, which cannot be read here. Convert it to PKCS#8: " +
        "`openssl pkcs8 -topk8 -in key.pem -out key.p8.pem` (then send its passphrase as privateKeyPassphrase), " +
        "or `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8.pem` for an unencrypted key.",
    );
  let pkcs8: Uint8Array<ArrayBuffer>;
  switch (block.label) {
    case "PRIVATE KEY":
      pkcs8 = block.der;
      break;
    case "RSA PRIVATE KEY":
      pkcs8 = pkcs1ToPkcs8(block.der);
      break;
    case "EC PRIVATE KEY":
      throw new PemError("unsupported_key_type", "is a SEC1 EC key; convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8.pem`");
    default:
      if (passphrase === undefined || passphrase === "") throw new PemError("passphrase_required", "is encrypted: send its passphrase as privateKeyPassphrase");
      pkcs8 = await decryptPkcs8(block.der, passphrase);
  }
  return describePkcs8(pkcs8, block.label === "ENCRYPTED PRIVATE KEY");
}

function describePkcs8(pkcs8: Uint8Array<ArrayBuffer>, decrypted: boolean): Pkcs8Key {
  try {
    const info = pkijs.PrivateKeyInfo.fromBER(pkcs8);
    const algorithm = info.privateKeyAlgorithm.algorithmId;
    const params = info.privateKeyAlgorithm.algorithmParams;
    const curve = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : undefined;
    return { der: pkcs8, algorithm, curve };
  } catch {
    // Garbage after decryption means the passphrase was wrong (CBC padding can pass by chance).
    if (decrypted) throw new PemError("passphrase_wrong", "could not be decrypted with the passphrase given");
    throw new PemError("der_invalid", "is not a readable PKCS#8 or PKCS#1 private key");
  }
}

const PRF_HASH: Record<string, string> = {
  "1.2.840.113549.2.7": "SHA-1",
  "1.2.840.113549.2.9": "SHA-256",
  "1.2.840.113549.2.10": "SHA-384",
  "1.2.840.113549.2.11": "SHA-512",
};
const AES_CBC_BITS: Record<string, number> = {
  "2.16.840.1.101.3.4.1.2": 128,
  "2.16.840.1.101.3.4.1.22": 192,
  "2.16.840.1.101.3.4.1.42": 256,
};
/** workerd refuses PBKDF2 above 100,000 iterations; it also bounds the CPU a hostile key can cost. */
const MAX_PBKDF2_ITERATIONS = 100_000;

async function decryptPkcs8(encrypted: Uint8Array<ArrayBuffer>, passphrase: string): Promise<Uint8Array<ArrayBuffer>> {
  const unsupported = () =>
    new PemError(
      "unsupported_encryption",
      "is encrypted with a scheme other than PBES2 / PBKDF2 / AES-CBC; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key.p8.pem`",
    );
  let salt: Uint8Array<ArrayBuffer>, iterations: number, hash: string, bits: number, iv: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>;
  try {
    const asn = asn1js.fromBER(encrypted);
    if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) throw new Error("not a sequence");
    const [algSeq, dataOctets] = asn.result.valueBlock.value;
    const alg = new pkijs.AlgorithmIdentifier({ schema: algSeq });
    if (alg.algorithmId !== OID.pbes2) throw unsupported();
    const pbes2 = new pkijs.PBES2Params({ schema: alg.algorithmParams });
    if (pbes2.keyDerivationFunc.algorithmId !== OID.pbkdf2) throw unsupported();
    const kdf = new pkijs.PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams });
    hash = PRF_HASH[kdf.prf?.algorithmId ?? "1.2.840.113549.2.7"];
    bits = AES_CBC_BITS[pbes2.encryptionScheme.algorithmId];
    if (!hash || !bits) throw unsupported();
    salt = Uint8Array.from((kdf.salt as asn1js.OctetString).valueBlock.valueHexView);
    iterations = kdf.iterationCount;
    iv = Uint8Array.from((pbes2.encryptionScheme.algorithmParams as asn1js.OctetString).valueBlock.valueHexView);
    data = Uint8Array.from((dataOctets as asn1js.OctetString).valueBlock.valueHexView);
  } catch (e) {
    if (e instanceof PemError) throw e;
    throw new PemError("der_invalid", "is not a readable encrypted PKCS#8 key");
  }
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS)
    throw new PemError("unsupported_encryption", `uses ${iterations} PBKDF2 iterations; at most ${MAX_PBKDF2_ITERATIONS} are supported`);
  if (iv.length !== 16) throw new PemError("der_invalid", "has an AES-CBC IV that is not 16 bytes");
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey({ name: "PBKDF2", salt, iterations, hash }, base, { name: "AES-CBC", length: bits }, false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key, data));
  } catch {
    throw new PemError("passphrase_wrong", "could not be decrypted with the passphrase given");
  }
}

/** An RDN sequence as `UID=..., CN=..., OU=...`, in certificate order. */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `${NAME_TYPES[tv.type] ?? tv.type}=${nameValue(tv)}`).join(", ");
}

/** The first value of one attribute type in a name, e.g. the subject UID. */
export function nameAttribute(name: pkijs.RelativeDistinguishedNames, type: string): string | null {
  const tv = name.typesAndValues.find((t) => t.type === type);
  return tv ? nameValue(tv) : null;
}

const NAME_TYPES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  [OID.uid]: "UID",
  "1.2.840.113549.1.9.1": "emailAddress",
};

function nameValue(tv: pkijs.AttributeTypeAndValue): string {
  const v = tv.value as { valueBlock?: { value?: unknown } };
  return typeof v.valueBlock?.value === "string" ? v.valueBlock.value : "";
}

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
