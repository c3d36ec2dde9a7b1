/**
 * @module apple/apns-token
 * APNs provider tokens (apple-wallet.md §5.3): an ES256 JWT `{alg: ES256, kid}` / `{iss: teamId, iat}`
 * signed with the team's `.p8` key. APNs rejects a token older than an hour (403 ExpiredProviderToken)
 * and one refreshed too often (429 TooManyProviderTokenUpdates), so one token per (team, key, key
 * version) is reused until it is 50 minutes old, in this isolate. `invalidateProviderToken` drops it
 * after an ExpiredProviderToken. The clock comes in as `now`.
 */
import { importPKCS8, SignJWT } from "jose";

export interface ApnsTokenKey {
  teamId: string;
  keyId: string;
  /** The `.p8` PKCS#8 PEM. */
  privateKeyPem: string;
  /** Changes when the stored key changes, so a replaced key never reuses an old token. */
  keyVersion: string;
}

/** Reuse a token until it is this old (§5.3: refresh at ~50 min; APNs refuses after 60). */
export const TOKEN_MAX_AGE_MS = 50 * 60 * 1000;
const MAX_ENTRIES = 256;

interface Entry {
  iat: number; // ms, the `now` the token was minted for
  jwt: Promise<string>;
}
const tokens = new Map<string, Entry>();
const keys = new Map<string, Promise<CryptoKey>>();

const cacheKey = (k: ApnsTokenKey) => `${k.teamId}\u0000${k.keyId}\u0000${k.keyVersion}`;

function bounded<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
  return value;
}

/** The provider token for `key` at `now`: the cached one while younger than 50 minutes, else a new one. */
export function providerToken(key: ApnsTokenKey, now: number): Promise<string> {
  const id = cacheKey(key);
  const hit = tokens.get(id);
  // A clock that went backwards (now < iat) keeps the token: minting again would not make it younger.
  if (hit && now - hit.iat < TOKEN_MAX_AGE_MS) return hit.jwt;
  const jwt = mint(key, id, now);
  const entry = bounded(tokens, id, { iat: now, jwt });
  jwt.catch(() => {
    if (tokens.get(id) === entry) tokens.delete(id);
  });
  return jwt;
}

/**
 * Drops the cached token after APNs answered ExpiredProviderToken. With `jwt`, only that token is
 * dropped, so concurrent pushes that all saw the same rejection mint one replacement, not many.
 */
export async function invalidateProviderToken(key: ApnsTokenKey, jwt?: string): Promise<void> {
  const id = cacheKey(key);
  const hit = tokens.get(id);
  if (!hit) return;
  if (jwt === undefined || (await hit.jwt.catch(() => null)) === jwt) {
    if (tokens.get(id) === hit) tokens.delete(id);
  }
}

async function mint(key: ApnsTokenKey, id: string, now: number): Promise<string> {
  let signingKey = keys.get(id);
  if (!signingKey) {
    signingKey = bounded(keys, id, importPKCS8(key.privateKeyPem, "ES256"));
    signingKey.catch(() => keys.delete(id));
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: key.keyId })
    .setIssuer(key.teamId)
    .setIssuedAt(Math.floor(now / 1000))
    .sign(await signingKey);
}
