/**
 * @module apple/certificates
 * Checks a project's Apple credentials at upload (issue 13 §1, api.md "Wallet credentials"): the Pass
 * Type ID certificate, its private key (PKCS#8, PKCS#1 or encrypted PKCS#8 + passphrase), the WWDR
 * intermediate, and the optional APNs token key. Each failure names the check and the input it is about,
 * so the route can answer a 400 `validation_failed` that says which. On success it returns a summary
 * without key material, and the normalised PEMs the credential store encrypts (the key as unencrypted
 * PKCS#8: WebCrypto cannot import anything else, §4.2 pitfall 1).
 *
 * Pure apart from WebCrypto; the clock comes in as `now`. It does not store anything.
 */
import { z } from "zod";
import type { FieldIssue } from "../lib/errors";
import { err, ok, type Result } from "../lib/result";
import { formatName, hex, nameAttribute, OID, PemError, pkijs, readCertificatePem, readPrivateKeyPem, toPem, type Pkcs8Key } from "./pki";

const pem = z.string().min(1).max(64 * 1024);
const appleId = z.string().regex(/^[A-Z0-9]{10}$/, "must be 10 characters A-Z or 0-9");

export const DEFAULT_APNS_HOST = "https://api.push.apple.com";
export const SANDBOX_APNS_HOST = "https://api.sandbox.push.apple.com";

/** The body of `PUT /v1/project/{projectId}/credentials/apple` (api.md). */
export const appleCredentialsBody = z
  .object({
    passTypeIdentifier: z.string().regex(/^pass\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, "must look like pass.com.example.loyalty").max(128),
    teamIdentifier: appleId,
    certificatePem: pem,
    privateKeyPem: pem,
    privateKeyPassphrase: z.string().min(1).max(1024).optional(),
    wwdrCertificatePem: pem,
    apns: z
      .object({ keyId: appleId, teamId: appleId, privateKeyPem: pem, host: z.string().max(2048).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type AppleCredentialsBody = z.output<typeof appleCredentialsBody>;

export type CertificateFailureReason =
  | "certificate_unreadable"
  | "wwdr_unreadable"
  | "key_unreadable"
  | "legacy_encrypted_key"
  | "passphrase_required"
  | "passphrase_wrong"
  | "unsupported_key"
  | "not_a_pass_certificate"
  | "identifier_mismatch"
  | "key_mismatch"
  | "certificate_expired"
  | "certificate_not_yet_valid"
  | "wwdr_expired"
  | "wrong_issuer"
  | "issuer_signature_invalid"
  | "apns_key_invalid"
  | "apns_host_invalid";

export interface CertificateFailure {
  reason: CertificateFailureReason;
  /** The input field at fault, e.g. `certificatePem`, `privateKeyPem`, `wwdrCertificatePem`, `apns.host`. */
  path: string;
  message: string;
}

export interface AppleCertificateSummary {
  subject: string;
  issuer: string;
  passTypeIdentifier: string;
  teamIdentifier: string;
  notBefore: string;
  notAfter: string;
  serialNumber: string;
}

export interface ApnsSummary {
  keyId: string;
  teamId: string;
  host: string;
}

export interface ValidatedAppleCredentials {
  summary: AppleCertificateSummary & { apns: ApnsSummary | null };
  /** What the credential store keeps (encrypted). Never returned to a client. */
  secret: {
    certificatePem: string;
    wwdrCertificatePem: string;
    privateKeyPem: string;
    apns: { keyId: string; teamId: string; privateKeyPem: string; host: string } | null;
  };
}

export interface ValidateOptions {
  now: number;
  /**
   * Allow APNs hosts other than Apple's two: any https URL, and http on 127.0.0.1 / localhost / [::1]
   * (ALLOW_CUSTOM_APNS_HOST, for a local fake APNs or a test server; never in production).
   */
  allowCustomApnsHost?: boolean;
}

const fail = (reason: CertificateFailureReason, path: string, message: string) => err<CertificateFailure>({ reason, path, message });

/** The failure as the `details.issues` of a 400 `validation_failed`. */
export function failureIssues(f: CertificateFailure): FieldIssue[] {
  return [{ path: f.path, message: f.message }];
}

/**
 * Validates the whole Apple credential body. Checks run in a fixed order and stop at the first
 * failure: readable inputs, a Pass Type ID certificate whose identifiers match the body, the key
 * belongs to the certificate, the certificate and WWDR are valid at `now`, the WWDR issued it, and
 * the APNs key and host.
 */
export async function validateAppleCredentials(
  body: AppleCredentialsBody,
  opts: ValidateOptions,
): Promise<Result<ValidatedAppleCredentials, CertificateFailure>> {
  let certificate: pkijs.Certificate, wwdr: pkijs.Certificate, key: Pkcs8Key;
  try {
    certificate = readCertificatePem(body.certificatePem);
  } catch (e) {
    return fail("certificate_unreadable", "certificatePem", `The certificate ${pemMessage(e)}.`);
  }
  try {
    wwdr = readCertificatePem(body.wwdrCertificatePem);
  } catch (e) {
    return fail("wwdr_unreadable", "wwdrCertificatePem", `The WWDR certificate ${pemMessage(e)}.`);
  }
  try {
    key = await readPrivateKeyPem(body.privateKeyPem, body.privateKeyPassphrase);
  } catch (e) {
    const reason = e instanceof PemError ? e.reason : "der_invalid";
    const mapped: CertificateFailureReason =
      reason === "legacy_encrypted_key" || reason === "passphrase_required" || reason === "passphrase_wrong"
        ? reason
        : reason === "unsupported_key_type" || reason === "unsupported_encryption"
          ? "unsupported_key"
          : "key_unreadable";
    return fail(mapped, mapped.startsWith("passphrase") ? "privateKeyPassphrase" : "privateKeyPem", `The private key ${pemMessage(e)}.`);
  }

  const passTypeIdentifier = nameAttribute(certificate.subject, OID.uid);
  const teamIdentifier = nameAttribute(certificate.subject, "2.5.4.11");
  if (!passTypeIdentifier?.startsWith("pass.") || !teamIdentifier)
    return fail("not_a_pass_certificate", "certificatePem", "The certificate is not a Pass Type ID certificate (its subject has no UID pass.… and OU team id).");
  if (passTypeIdentifier !== body.passTypeIdentifier)
    return fail("identifier_mismatch", "passTypeIdentifier", `The certificate is for ${passTypeIdentifier}, not ${body.passTypeIdentifier}.`);
  if (teamIdentifier !== body.teamIdentifier)
    return fail("identifier_mismatch", "teamIdentifier", `The certificate belongs to team ${teamIdentifier}, not ${body.teamIdentifier}.`);

  const certAlgorithm = certificate.subjectPublicKeyInfo.algorithm.algorithmId;
  if (certAlgorithm !== OID.rsaEncryption || key.algorithm !== OID.rsaEncryption)
    return fail("unsupported_key", certAlgorithm !== OID.rsaEncryption ? "certificatePem" : "privateKeyPem", "Pass Type ID certificates and keys must be RSA.");
  if (!(await rsaKeyMatches(key, certificate)))
    return fail("key_mismatch", "privateKeyPem", "The private key does not belong to the certificate.");

  const now = opts.now;
  if (now > certificate.notAfter.value.getTime())
    return fail("certificate_expired", "certificatePem", `The certificate expired on ${certificate.notAfter.value.toISOString()}.`);
  if (now < certificate.notBefore.value.getTime())
    return fail("certificate_not_yet_valid", "certificatePem", `The certificate is not valid before ${certificate.notBefore.value.toISOString()}.`);
  if (now > wwdr.notAfter.value.getTime() || now < wwdr.notBefore.value.getTime())
    return fail("wwdr_expired", "wwdrCertificatePem", `The WWDR certificate is not valid now (valid ${wwdr.notBefore.value.toISOString()} to ${wwdr.notAfter.value.toISOString()}); download the current one (G4) from Apple.`);
  if (!certificate.issuer.isEqual(wwdr.subject))
    return fail("wrong_issuer", "wwdrCertificatePem", `The certificate was issued by "${formatName(certificate.issuer)}", not by this WWDR certificate ("${formatName(wwdr.subject)}").`);
  if (!(await verifiedBy(certificate, wwdr)))
    return fail("issuer_signature_invalid", "wwdrCertificatePem", "The certificate's signature does not verify with this WWDR certificate's key.");

  let apns: ValidatedAppleCredentials["secret"]["apns"] = null;
  if (body.apns) {
    const checked = await validateApnsKey(body.apns, opts);
    if (!checked.ok) return checked;
    apns = checked.value;
  }

  const summary: AppleCertificateSummary = {
    subject: formatName(certificate.subject),
    issuer: formatName(certificate.issuer),
    passTypeIdentifier,
    teamIdentifier,
    notBefore: certificate.notBefore.value.toISOString(),
    notAfter: certificate.notAfter.value.toISOString(),
    serialNumber: hex(certificate.serialNumber.valueBlock.valueHexView),
  };
  return ok({
    summary: { ...summary, apns: apns ? { keyId: apns.keyId, teamId: apns.teamId, host: apns.host } : null },
    secret: {
      certificatePem: toPem("CERTIFICATE", new Uint8Array(certificate.toSchema().toBER(false))),
      wwdrCertificatePem: toPem("CERTIFICATE", new Uint8Array(wwdr.toSchema().toBER(false))),
      privateKeyPem: toPem("PRIVATE KEY", key.der),
      apns,
    },
  });
}

function pemMessage(e: unknown): string {
  return e instanceof PemError ? e.message : "could not be read";
}

/** Same modulus and exponent: compare the JWK of the private key with the certificate's public key. */
async function rsaKeyMatches(key: Pkcs8Key, certificate: pkijs.Certificate): Promise<boolean> {
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  try {
    const priv = (await crypto.subtle.exportKey("jwk", await crypto.subtle.importKey("pkcs8", key.der, alg, true, ["sign"]))) as JsonWebKey;
    const spki = new Uint8Array(certificate.subjectPublicKeyInfo.toSchema().toBER(false));
    const pub = (await crypto.subtle.exportKey("jwk", await crypto.subtle.importKey("spki", spki, alg, true, ["verify"]))) as JsonWebKey;
    return priv.n === pub.n && priv.e === pub.e;
  } catch {
    return false;
  }
}

async function verifiedBy(certificate: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  try {
    return await certificate.verify(issuer);
  } catch {
    return false;
  }
}

/**
 * The APNs part: a `.p8` that is a PKCS#8 EC P-256 key (§5.3), key and team ids of 10 characters, and a
 * host that is Apple's production or sandbox endpoint (§5.1); another host only when
 * `allowCustomApnsHost` is set (normaliseApnsHost).
 */
export async function validateApnsKey(
  apns: NonNullable<AppleCredentialsBody["apns"]>,
  opts: Pick<ValidateOptions, "allowCustomApnsHost">,
): Promise<Result<NonNullable<ValidatedAppleCredentials["secret"]["apns"]>, CertificateFailure>> {
  let key: Pkcs8Key;
  try {
    key = await readPrivateKeyPem(apns.privateKeyPem);
  } catch (e) {
    return fail("apns_key_invalid", "apns.privateKeyPem", `The APNs key ${pemMessage(e)}.`);
  }
  if (key.algorithm !== OID.ecPublicKey || key.curve !== OID.p256)
    return fail("apns_key_invalid", "apns.privateKeyPem", "The APNs key must be the EC P-256 .p8 key Apple issues for token authentication.");
  try {
    await crypto.subtle.importKey("pkcs8", key.der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  } catch {
    return fail("apns_key_invalid", "apns.privateKeyPem", "The APNs key could not be imported as an EC P-256 key.");
  }
  const host = normaliseApnsHost(apns.host ?? DEFAULT_APNS_HOST, opts.allowCustomApnsHost ?? false);
  if (!host.ok) return fail("apns_host_invalid", "apns.host", host.error);
  return ok({ keyId: apns.keyId, teamId: apns.teamId, privateKeyPem: toPem("PRIVATE KEY", key.der), host: host.value });
}

/** Apple's two APNs endpoints (§5.1), the only hosts a production deployment pushes to. */
export const APPLE_APNS_HOSTS: readonly string[] = [DEFAULT_APNS_HOST, SANDBOX_APNS_HOST];

/**
 * An APNs base URL without a trailing slash, query or credentials: Apple's production or sandbox host
 * on port 443. A push carries the project's provider token and goes wherever this says, so any other
 * host (a local fake, a test server) needs `allowCustom` (ALLOW_CUSTOM_APNS_HOST, a development flag):
 * then https anywhere, http only on loopback.
 */
export function normaliseApnsHost(raw: string, allowCustom: boolean): Result<string, string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return err("must be an absolute URL such as https://api.push.apple.com");
  }
  if (url.username || url.password || url.search || url.hash) return err("must not carry credentials, a query or a fragment");
  const base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  if (APPLE_APNS_HOSTS.includes(base)) return ok(base);
  if (!allowCustom) return err(`must be ${DEFAULT_APNS_HOST} or ${SANDBOX_APNS_HOST} (another host only where ALLOW_CUSTOM_APNS_HOST=true, for local development)`);
  const local = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol === "http:" && !local) return err("must use https (http only for 127.0.0.1 or localhost in local development)");
  if (url.protocol !== "https:" && url.protocol !== "http:") return err("must be an https URL");
  return ok(base);
}
