/**
 * @module google/root-keys
 * Google's root signing keys for callbacks (GOOGLE_CALLBACK_KEYS_URL, by default
 * https://pay.google.com/gp/m/issuer/keys; google-wallet.md §5 step 2). The response is
 * `{"keys": [{"keyValue": "<base64 SPKI P-256>", "protocolVersion": "ECv2SigningOnly",
 * "keyExpiration": "<ms>"}]}`. Fetched with an injected fetch and cached per URL in the isolate for
 * the response's `Cache-Control: max-age` minus `Age`, as Tink's KeysDownloader does. Never pinned:
 * Google rotates them.
 */
import { MINUTE, HOUR, SECOND } from "../lib/time";

export interface RootKey {
  keyValue: string;
  protocolVersion: string;
  keyExpiration?: string;
}

/** Used when the response carries no max-age. */
export const DEFAULT_KEYS_TTL_MS = 5 * MINUTE;
export const MAX_KEYS_TTL_MS = 24 * HOUR;
/** A forced refresh (after a failed verification) happens at most this often per URL. */
export const MIN_FORCED_REFRESH_MS = MINUTE;
const MAX_KEYS = 50;

/** Reads the keys document leniently: malformed entries are dropped, never thrown on. */
export function parseRootKeys(json: unknown): RootKey[] {
  const keys = json && typeof json === "object" ? (json as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) return [];
  const out: RootKey[] = [];
  for (const k of keys.slice(0, MAX_KEYS)) {
    if (!k || typeof k !== "object") continue;
    const { keyValue, protocolVersion, keyExpiration } = k as Record<string, unknown>;
    if (typeof keyValue !== "string" || typeof protocolVersion !== "string") continue;
    out.push(typeof keyExpiration === "string" ? { keyValue, protocolVersion, keyExpiration } : { keyValue, protocolVersion });
  }
  return out;
}

/**
 * The keys that may verify an ECv2SigningOnly intermediate at `now`: that protocol, and an
 * expiration in the future (Tink skips keys without `keyExpiration` for every protocol but ECv1).
 */
export function usableRootKeys(keys: readonly RootKey[], now: number): RootKey[] {
  return keys.filter(
    (k) => k.protocolVersion === "ECv2SigningOnly" && typeof k.keyExpiration === "string" && /^\d{1,15}$/.test(k.keyExpiration) && Number(k.keyExpiration) > now,
  );
}

/** Milliseconds a response may be cached: `max-age` minus `Age`; 0 for no-store/no-cache. */
export function cacheTtlMs(cacheControl: string | null, age: string | null): number {
  const cc = (cacheControl ?? "").toLowerCase();
  if (/(^|[,\s])(no-store|no-cache)([,\s=]|$)/.test(cc)) return 0;
  const m = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/.exec(cc);
  if (!m) return DEFAULT_KEYS_TTL_MS;
  const ageSeconds = age && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.min(MAX_KEYS_TTL_MS, Math.max(0, Number(m[1]) - ageSeconds) * SECOND);
}

interface Entry {
  keys: RootKey[];
  expiresAt: number;
  fetchedAt: number;
}
const cache = new Map<string, Entry>();
const inflight = new Map<string, Promise<Entry>>();

export interface GetRootKeysOptions {
  now: number;
  fetch?: typeof fetch;
  /** Refetch even if cached (e.g. after a verification failed), at most once a minute. */
  forceRefresh?: boolean;
}

/**
 * The root keys at `url`, from the isolate cache when fresh. Concurrent callers share one fetch.
 * When the fetch fails and a stale copy exists, the stale copy is used (each key still carries its
 * own expiration); with nothing cached the error propagates.
 */
export async function getRootKeys(url: string, opts: GetRootKeysOptions): Promise<RootKey[]> {
  const hit = cache.get(url);
  const forced = opts.forceRefresh === true && (!hit || opts.now - hit.fetchedAt >= MIN_FORCED_REFRESH_MS);
  if (hit && hit.expiresAt > opts.now && !forced) return hit.keys;

  let pending = inflight.get(url);
  if (!pending) {
    pending = download(url, opts).finally(() => inflight.delete(url));
    inflight.set(url, pending);
  }
  try {
    return (await pending).keys;
  } catch (e) {
    if (hit) return hit.keys;
    throw e;
  }
}

async function download(url: string, opts: GetRootKeysOptions): Promise<Entry> {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const res = await doFetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10 * SECOND) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`root keys fetch answered ${res.status}`);
  }
  const keys = parseRootKeys(await res.json().catch(() => null));
  if (keys.length === 0) throw new Error("root keys response has no keys");
  const entry = { keys, fetchedAt: opts.now, expiresAt: opts.now + cacheTtlMs(res.headers.get("cache-control"), res.headers.get("age")) };
  cache.set(url, entry);
  return entry;
}

/** Test hook: forget every cached key set. */
export function clearRootKeyCache(): void {
  cache.clear();
  inflight.clear();
}
