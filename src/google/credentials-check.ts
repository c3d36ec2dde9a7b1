/**
 * @module google/credentials-check
 * Checks a project's Google Wallet credentials before they are encrypted and stored
 * (`PUT /v1/project/{projectId}/credentials/google`, api.md "Wallet credentials"): the issuer id is
 * digits, the e-mail looks like a service account, the private key is an unencrypted PKCS#8 RSA key
 * of at least 2048 bits (what jose's importPKCS8 needs for RS256, google-wallet.md §1), and save-link
 * origins are web origins. Returns the normalised secret to store and a summary that holds no key
 * material, or every issue at once with its field path.
 */
import type { FieldIssue } from "../lib/errors";
import { fromBase64, toBase64, toHex } from "../lib/crypto";
import { err, ok, type Result } from "../lib/result";

export interface GoogleCredentialsInput {
  issuerId?: unknown;
  serviceAccountEmail?: unknown;
  privateKeyPem?: unknown;
  origins?: unknown;
}

/** What is encrypted and stored. */
export interface GoogleCredentialsSecret {
  issuerId: string;
  serviceAccountEmail: string;
  privateKeyPem: string;
  origins: string[];
}

/** What the API may show. The fingerprint is of the public key, safe to display. */
export interface GoogleCredentialsSummary {
  issuerId: string;
  serviceAccountEmail: string;
  origins: string[];
  keyBits: number;
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER). */
  publicKeyFingerprint: string;
}

const ISSUER_ID = /^[0-9]{1,25}$/;
/** `name@project.iam.gserviceaccount.com` (also legacy appspot/developer service accounts). */
const SA_EMAIL = /^[a-z0-9][a-z0-9._-]{0,99}@(?:[a-z0-9-]+\.)*(?:iam|appspot|developer)\.gserviceaccount\.com$/;
const PKCS8_HEADER = "-----BEGIN PRIVATE KEY-----";
const PKCS8_FOOTER = "-----END PRIVATE KEY-----";
const MAX_PEM = 16 * 1024;
const MAX_ORIGINS = 20;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Validates and normalises Google credentials. Async only because the key is test-imported. */
export async function checkGoogleCredentials(input: GoogleCredentialsInput): Promise<Result<{ secret: GoogleCredentialsSecret; summary: GoogleCredentialsSummary }, FieldIssue[]>> {
  const issues: FieldIssue[] = [];
  const bag = input && typeof input === "object" ? input : {};

  let issuerId = "";
  if (typeof bag.issuerId === "number") {
    issues.push({ path: "issuerId", message: "must be a string of digits (issuer ids are longer than a JSON number holds exactly)" });
  } else if (typeof bag.issuerId !== "string" || !ISSUER_ID.test(bag.issuerId.trim())) {
    issues.push({ path: "issuerId", message: "must be the numeric issuer id from the Google Pay & Wallet Console" });
  } else issuerId = bag.issuerId.trim();

  let email = "";
  const rawEmail = typeof bag.serviceAccountEmail === "string" ? bag.serviceAccountEmail.trim().toLowerCase() : "";
  if (!SA_EMAIL.test(rawEmail) || rawEmail.length > 254) {
    issues.push({ path: "serviceAccountEmail", message: "must be a service account e-mail such as name@project.iam.gserviceaccount.com" });
  } else email = rawEmail;

  const key = await checkPrivateKey(bag.privateKeyPem);
  if (!key.ok) issues.push({ path: "privateKeyPem", message: key.error });
  else if (key.value.clientEmail && email && key.value.clientEmail !== email) {
    issues.push({ path: "serviceAccountEmail", message: "does not match the client_email of the pasted service-account JSON" });
  }

  const origins = checkOrigins(bag.origins, issues);

  if (issues.length > 0 || !key.ok) return err(issues);
  return ok({
    secret: { issuerId, serviceAccountEmail: email, privateKeyPem: key.value.pem, origins },
    summary: { issuerId, serviceAccountEmail: email, origins, keyBits: key.value.bits, publicKeyFingerprint: key.value.fingerprint },
  });
}

interface CheckedKey {
  pem: string;
  bits: number;
  fingerprint: string;
  clientEmail: string | null;
}

/**
 * Accepts a PEM, the same with literal `\n` escapes (as copied out of the service-account JSON or
 * a secret store), or the whole service-account JSON. Only unencrypted PKCS#8 RSA keys pass.
 */
async function checkPrivateKey(raw: unknown): Promise<Result<CheckedKey, string>> {
  if (typeof raw !== "string" || raw.trim() === "") return err("is required: the private_key of the service-account JSON key");
  if (raw.length > MAX_PEM) return err("is too long for a private key");
  let text = raw.trim();
  let clientEmail: string | null = null;
  if (text.startsWith("{")) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      return err("looks like JSON but does not parse");
    }
    if (typeof json?.private_key !== "string") return err("the JSON has no private_key");
    text = json.private_key.trim();
    clientEmail = typeof json.client_email === "string" ? json.client_email.trim().toLowerCase() : null;
  }
  text = text.replace(/\\r\\n|\\n/g, "\n").replace(/\r\n/g, "\n").trim();
  if (text.includes("ENCRYPTED PRIVATE KEY")) return err("must not be encrypted (use the unencrypted key from the service-account JSON)");
  if (text.includes("BEGIN RSA PRIVATE KEY")) return err("is PKCS#1; convert it with `openssl pkcs8 -topk8 -nocrypt` or use the key from the service-account JSON");
  if (!text.startsWith(PKCS8_HEADER) || !text.endsWith(PKCS8_FOOTER)) return err(`must be a PEM starting with ${PKCS8_HEADER}`);
  const body = text.slice(PKCS8_HEADER.length, -PKCS8_FOOTER.length).replace(/\s+/g, "");
  let der: Uint8Array;
  try {
    der = fromBase64(body);
  } catch {
    return err("is not valid PEM (bad base64)");
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
  } catch {
    return err("is not an RSA private key");
  }
  const bits = (key.algorithm as unknown as { modulusLength: number }).modulusLength;
  if (bits < 2048) return err(`is a ${bits}-bit RSA key; Google requires at least 2048 bits`);
  const jwk = (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256", ext: true }, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", publicKey)) as ArrayBuffer);
  const fingerprint = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", spki))).slice(0, 16);
  // Store a canonical PEM: 64-character lines, exactly what jose's importPKCS8 expects.
  const pem = `${PKCS8_HEADER}\n${toBase64(der).match(/.{1,64}/g)!.join("\n")}\n${PKCS8_FOOTER}\n`;
  return ok({ pem, bits, fingerprint, clientEmail });
}

/** Save-link origins (google-wallet.md §4): https origins; http only for local hosts. */
function checkOrigins(raw: unknown, issues: FieldIssue[]): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.push({ path: "origins", message: "must be a list of origins such as https://example.com" });
    return [];
  }
  if (raw.length > MAX_ORIGINS) {
    issues.push({ path: "origins", message: `must have at most ${MAX_ORIGINS} entries` });
    return [];
  }
  const out: string[] = [];
  raw.forEach((o, i) => {
    const path = `origins.${i}`;
    if (typeof o !== "string" || o.length > 300) return issues.push({ path, message: "must be an origin such as https://example.com" });
    let u: URL;
    try {
      u = new URL(o.trim());
    } catch {
      return issues.push({ path, message: "must be an origin such as https://example.com" });
    }
    const local = LOCAL_HOSTS.has(u.hostname);
    if (u.protocol !== "https:" && !(u.protocol === "http:" && local)) return issues.push({ path, message: "must use https (http only for localhost)" });
    if (u.username || u.password || (u.pathname !== "/" && u.pathname !== "") || u.search || u.hash) {
      return issues.push({ path, message: "must be an origin only: scheme, host and optional port, no path" });
    }
    if (!out.includes(u.origin)) out.push(u.origin);
  });
  return out;
}
