/**
 * @module google/auth
 * OAuth 2.0 access tokens for the Wallet API with a service-account JWT assertion
 * (google-wallet.md §1; Google "Using OAuth 2.0 for Server to Server Applications"): an RS256 JWT
 * `{iss: client email, scope: wallet_object.issuer, aud: token URL, iat, exp: iat + 1 h}` is
 * exchanged at GOOGLE_OAUTH_TOKEN_URL with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
 *
 * Caching (a design choice, not Google's rule): tokens live in the isolate, keyed by token URL,
 * issuer, client email and key version, and are used until 5 minutes before they expire, so one
 * token serves every push in that window. Concurrent callers share one in-flight exchange. Imported
 * private keys are cached per (email, key version): callers must bump `keyVersion` whenever the
 * stored key changes. Nothing here logs or returns key material or tokens in errors.
 */
import { importPKCS8, SignJWT } from "jose";
import { MINUTE, SECOND } from "../lib/time";

export const WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** "a maximum of 1 hour after the issued time" (Google OAuth service-account guide). */
export const ASSERTION_LIFETIME_SECONDS = 3600;
/** Refresh this long before a token expires. */
export const REFRESH_MARGIN_MS = 5 * MINUTE;
const TOKEN_TIMEOUT_MS = 10 * SECOND;

export interface ServiceAccountKey {
  issuerId: string;
  serviceAccountEmail: string;
  /** PKCS#8 PEM, normalised by checkGoogleCredentials. */
  privateKeyPem: string;
  /** Changes whenever the stored key changes (e.g. the credentials row's updatedAt). */
  keyVersion: string;
}

export interface TokenOptions {
  /** GOOGLE_OAUTH_TOKEN_URL. */
  tokenUrl: string;
  now: number;
  fetch?: typeof fetch;
}

/** The token endpoint refused or failed. `retryable` for 429, 5xx and network errors. */
export class GoogleAuthError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "GoogleAuthError";
  }
}

const keyCache = new Map<string, Promise<CryptoKey>>();

/** The service account's RS256 signing key, imported once per (email, key version). */
export function signingKey(sa: Pick<ServiceAccountKey, "serviceAccountEmail" | "privateKeyPem" | "keyVersion">): Promise<CryptoKey> {
  const id = `${sa.serviceAccountEmail}|${sa.keyVersion}`;
  let key = keyCache.get(id);
  if (!key) {
    key = importPKCS8(sa.privateKeyPem.trim(), "RS256");
    key.catch(() => keyCache.delete(id));
    keyCache.set(id, key);
  }
  return key;
}

/** The signed assertion JWT (RS256). `now` in milliseconds. */
export async function serviceAccountAssertion(key: CryptoKey, email: string, tokenUrl: string, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ scope: WALLET_SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(email)
    .setAudience(tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
    .sign(key);
}

export interface AccessToken {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Exchanges an assertion for an access token (one POST, no retries: the caller's queue retries). */
export async function exchangeAssertion(assertion: string, opts: TokenOptions): Promise<AccessToken> {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await doFetch(opts.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    });
  } catch (e) {
    throw new GoogleAuthError(`token endpoint unreachable: ${(e as Error).name}`, null, true);
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    // OAuth error shape: {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    const code = typeof body?.error === "string" ? body.error : "unknown_error";
    const desc = typeof body?.error_description === "string" ? ` (${body.error_description.slice(0, 200)})` : "";
    throw new GoogleAuthError(`token endpoint answered ${res.status}: ${code}${desc}`, res.status, res.status === 429 || res.status >= 500);
  }
  const token = body?.access_token;
  const expiresIn = body?.expires_in;
  if (typeof token !== "string" || token.length === 0) throw new GoogleAuthError("token endpoint answered without an access_token", res.status, true);
  const seconds = typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 86_400) : ASSERTION_LIFETIME_SECONDS;
  return { accessToken: token, expiresAt: opts.now + seconds * 1000 };
}

const tokenCache = new Map<string, AccessToken>();
const inflight = new Map<string, Promise<AccessToken>>();

const cacheKey = (sa: ServiceAccountKey, tokenUrl: string) => `${tokenUrl}|${sa.issuerId}|${sa.serviceAccountEmail}|${sa.keyVersion}`;

/**
 * A bearer token for this service account: cached until REFRESH_MARGIN_MS before expiry; concurrent
 * callers wait on the same exchange. Throws GoogleAuthError when the endpoint refuses.
 */
export async function getAccessToken(sa: ServiceAccountKey, opts: TokenOptions): Promise<string> {
  const id = cacheKey(sa, opts.tokenUrl);
  const cached = tokenCache.get(id);
  if (cached && opts.now < cached.expiresAt - REFRESH_MARGIN_MS) return cached.accessToken;

  let pending = inflight.get(id);
  if (!pending) {
    pending = (async () => {
      const key = await signingKey(sa);
      const token = await exchangeAssertion(await serviceAccountAssertion(key, sa.serviceAccountEmail, opts.tokenUrl, opts.now), opts);
      // Drop tokens that have expired (rotated key versions, removed projects) before adding one.
      for (const [k, t] of tokenCache) if (t.expiresAt <= opts.now) tokenCache.delete(k);
      tokenCache.set(id, token);
      return token;
    })().finally(() => inflight.delete(id));
    inflight.set(id, pending);
  }
  return (await pending).accessToken;
}

/** Drops a cached token (after the Wallet API answered 401 with it). */
export function invalidateAccessToken(sa: ServiceAccountKey, tokenUrl: string): void {
  tokenCache.delete(cacheKey(sa, tokenUrl));
}

/** Test hook: forget every cached token and key. */
export function clearAuthCaches(): void {
  tokenCache.clear();
  inflight.clear();
  keyCache.clear();
}
