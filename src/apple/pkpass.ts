/**
 * @module apple/pkpass
 * The signed `.pkpass` bundle (apple-wallet.md §3): pass.json, images, personalization.json, a
 * manifest of SHA-1 hashes, and a detached CMS SignedData over the manifest made with pkijs on
 * WebCrypto (§4.1), zipped with fflate. Also the signed personalization token (§1.6), same recipe.
 *
 * Signers are parsed and their keys imported once per isolate, cached by credential version (§4: RSA
 * signing is ~0.5 ms, importing is the expensive part). The cache is bounded; a new credential version
 * simply misses it.
 */
import { strToU8, zipSync, type Zippable } from "fflate";
import { imageBaseOf, type AppleDesign } from "./design";
import { defaultIconImages } from "./default-icon";
import { asn1js, hex, OID, pkijs, readCertificatePem, readPrivateKeyPem } from "./pki";

export interface AppleSigner {
  readonly version: string;
  readonly certificate: pkijs.Certificate;
  readonly wwdr: pkijs.Certificate;
  readonly key: CryptoKey;
}

export interface SignerMaterial {
  /** Changes whenever the stored credential changes (e.g. its updatedAt or a content hash). */
  version: string;
  certificatePem: string;
  wwdrCertificatePem: string;
  /** Unencrypted PKCS#8 (or PKCS#1) RSA key, as stored after validation. */
  privateKeyPem: string;
}

const MAX_SIGNERS = 64;
const signers = new Map<string, Promise<AppleSigner>>();

/**
 * The signer for one credential version, parsed and imported on first use in this isolate and reused
 * after. Concurrent first uses share one import. A failed load is not cached.
 */
export function loadSigner(material: SignerMaterial): Promise<AppleSigner> {
  const hit = signers.get(material.version);
  if (hit) {
    // Least recently used goes first: re-insert on use.
    signers.delete(material.version);
    signers.set(material.version, hit);
    return hit;
  }
  const loading = importSigner(material);
  signers.set(material.version, loading);
  loading.catch(() => {
    if (signers.get(material.version) === loading) signers.delete(material.version);
  });
  while (signers.size > MAX_SIGNERS) signers.delete(signers.keys().next().value!);
  return loading;
}

/** How many signers this isolate holds (for tests and metrics). */
export function cachedSignerCount(): number {
  return signers.size;
}

async function importSigner(m: SignerMaterial): Promise<AppleSigner> {
  const certificate = readCertificatePem(m.certificatePem);
  const wwdr = readCertificatePem(m.wwdrCertificatePem);
  const pkcs8 = await readPrivateKeyPem(m.privateKeyPem);
  // §4.2 pitfall 2: the import hash, the digest and SignedData.sign must all be SHA-256.
  const key = await crypto.subtle.importKey("pkcs8", pkcs8.der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  return { version: m.version, certificate, wwdr, key };
}

/**
 * Detached CMS SignedData (DER) over `content` (§3.2): SHA-256, one SignerInfo by issuer and serial,
 * signed attributes contentType, signingTime, messageDigest (already in DER SET OF order, §4.2
 * pitfall 6), certificates = signer + WWDR, no root.
 */
export async function signDetached(content: Uint8Array, signer: AppleSigner, now: number): Promise<Uint8Array> {
  // §4.2 pitfall 3: pkijs does not compute messageDigest; hash the exact bytes ourselves.
  const digest = await crypto.subtle.digest("SHA-256", Uint8Array.from(content));
  const attr = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });
  const at = new Date(Math.floor(now / 1000) * 1000);
  // RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime from 2050.
  const time = at.getUTCFullYear() < 2050 ? new asn1js.UTCTime({ valueDate: at }) : new asn1js.GeneralizedTime({ valueDate: at });
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }), // no eContent: detached
    certificates: [signer.certificate, signer.wwdr],
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.certificate.issuer, serialNumber: signer.certificate.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })),
            attr(OID.signingTime, time),
            attr(OID.messageDigest, new asn1js.OctetString({ valueHex: digest })),
          ],
        }),
      }),
    ],
  });
  await signed.sign(signer.key, 0, "SHA-256");
  const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER(false));
}

/** The body Wallet expects from the personalize endpoint (§1.6): the token's UTF-8 bytes, signed. */
export function signPersonalizationToken(token: string, signer: AppleSigner, now: number): Promise<Uint8Array> {
  return signDetached(new TextEncoder().encode(token), signer, now);
}

export type PersonalizationDesign = NonNullable<AppleDesign["personalization"]>;

/** personalization.json (§1.6), keys in Apple's order. */
export function buildPersonalizationJson(p: PersonalizationDesign): Record<string, unknown> {
  const out: Record<string, unknown> = { requiredPersonalizationFields: [...p.requiredFields], description: p.description };
  if (p.termsAndConditions) out.termsAndConditions = p.termsAndConditions;
  return out;
}

export interface PkpassInput {
  passJson: Record<string, unknown>;
  /** Apple image file name -> PNG bytes. Without `icon.png` the neutral default icon is added. */
  images: Record<string, Uint8Array>;
  /** Only while the holder has not signed up: a personalized pass must not carry personalization.json (§1.6). */
  personalization?: PersonalizationDesign | null;
  signer: AppleSigner;
  now: number;
}

export interface Pkpass {
  bytes: Uint8Array;
  /** File name -> SHA-1 hex, as in manifest.json. */
  manifest: Record<string, string>;
}

/** Builds the zipped, signed bundle (§3.1-§3.3). */
export async function buildPkpass(input: PkpassInput): Promise<Pkpass> {
  const files = new Map<string, Uint8Array>();
  files.set("pass.json", strToU8(JSON.stringify(input.passJson)));
  const images = { ...(input.images["icon.png"] ? {} : defaultIconImages()), ...input.images };
  for (const name of Object.keys(images).sort()) {
    const base = imageBaseOf(name);
    if (!base) throw new Error(`not an Apple image name: ${name}`);
    if (base === "personalizationLogo" && !input.personalization) continue;
    files.set(name, images[name]);
  }
  if (input.personalization) files.set("personalization.json", strToU8(JSON.stringify(buildPersonalizationJson(input.personalization))));

  // §3.1: every file but manifest.json and signature, path -> lowercase hex SHA-1 of the zipped bytes.
  const manifest: Record<string, string> = {};
  for (const [name, bytes] of files) manifest[name] = hex(await crypto.subtle.digest("SHA-1", Uint8Array.from(bytes)));
  const manifestBytes = strToU8(JSON.stringify(manifest));
  const signature = await signDetached(manifestBytes, input.signer, input.now);

  const zip: Zippable = {};
  const mtime = new Date(input.now);
  for (const [name, bytes] of files) zip[name] = [bytes, { level: name.endsWith(".png") ? 0 : 6, mtime }];
  zip["manifest.json"] = [manifestBytes, { level: 6, mtime }];
  zip["signature"] = [signature, { level: 0, mtime }];
  return { bytes: zipSync(zip), manifest };
}
