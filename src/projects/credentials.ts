/**
 * @module projects/credentials
 * The credential store both wallets share. A wallet edge (src/apple, src/google) validates what a
 * project sends and hands over two parts: the `secret` (keys, certificates; stored as JSON encrypted
 * under MASTER_KEY, bound to project and wallet, never returned) and the `summary` the API shows
 * (identifiers, subjects, expiry). Every save gets a new `version`, so per-isolate caches of parsed
 * keys know when to reload.
 *
 * Loads go through a 60-second per-isolate cache: a queue consumer pushing a thousand passes of one
 * project reads and decrypts its credentials once. A save or delete forgets the entry in its own
 * isolate at once; elsewhere the old credentials can be used for up to a minute.
 */
import { getDb } from "../db/client";
import { deleteWalletCredentials as deleteRow, findWalletCredentials, listWalletCredentialSummaries, upsertWalletCredentials } from "../db/queries/credentials";
import type { WalletName } from "../db/schema";
import { decryptSecret, encryptSecret } from "../lib/crypto";
import { notFound } from "../lib/errors";
import { iso } from "../lib/time";
import { LookupCache } from "../lib/ttl-cache";

export type { WalletName };
export const WALLETS = ["apple", "google"] as const satisfies readonly WalletName[];

type CredEnv = Pick<Env, "DB" | "MASTER_KEY">;

const context = (projectId: string, wallet: WalletName) => `wallet-credentials:${projectId}:${wallet}`;

export interface LoadedCredentials<S> {
  secret: S;
  summary: Record<string, unknown>;
  /** Changes with every save: the cache key for parsed keys. */
  version: string;
}

export const CREDENTIALS_CACHE_MS = 60_000;
// "No credentials" answers are cached apart (LookupCache), so lookups of made-up project ids (a forged
// Google callback names any project it likes) never push out a real project's entry.
const cache = new LookupCache<string, LoadedCredentials<unknown>>(CREDENTIALS_CACHE_MS, 500);
const cacheKey = (projectId: string, wallet: WalletName) => `${projectId}:${wallet}`;
const forget = (key: string) => cache.delete(key);

/** Stores a wallet's validated credentials (replacing any) and returns the summary as shown. */
export async function saveWalletCredentials(
  env: CredEnv,
  projectId: string,
  wallet: WalletName,
  input: { secret: unknown; summary: Record<string, unknown> },
  now = Date.now(),
) {
  const db = getDb(env.DB);
  const existing = await findWalletCredentials(db, projectId, wallet);
  // Strictly increasing, even for two saves in one millisecond.
  const version = Math.max(now, (existing?.version ?? 0) + 1);
  await upsertWalletCredentials(db, {
    projectId,
    wallet,
    version,
    secretEnc: await encryptSecret(env.MASTER_KEY, JSON.stringify(input.secret), context(projectId, wallet)),
    summary: input.summary,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  forget(cacheKey(projectId, wallet));
  return summaryView(wallet, input.summary, version, now);
}

function summaryView(wallet: WalletName, summary: Record<string, unknown>, version: number, updatedAt: number) {
  return { wallet, ...summary, version: String(version), updatedAt: iso(updatedAt) };
}

/** What the API shows for `GET /v1/project/{id}/credentials`: a summary per configured wallet, or null. */
export async function walletCredentialSummaries(env: Pick<Env, "DB">, projectId: string) {
  const rows = await listWalletCredentialSummaries(getDb(env.DB), projectId);
  const out: Record<WalletName, ReturnType<typeof summaryView> | null> = { apple: null, google: null };
  for (const r of rows) out[r.wallet] = summaryView(r.wallet, r.summary, r.version, r.updatedAt);
  return out;
}

/** Which wallets a project has set up (the holder page shows only their buttons). */
export async function configuredWallets(env: Pick<Env, "DB">, projectId: string): Promise<Record<WalletName, boolean>> {
  const s = await walletCredentialSummaries(env, projectId);
  return { apple: s.apple !== null, google: s.google !== null };
}

export async function deleteWalletCredentials(env: Pick<Env, "DB">, projectId: string, wallet: WalletName): Promise<void> {
  forget(cacheKey(projectId, wallet));
  if (!(await deleteRow(getDb(env.DB), projectId, wallet))) throw notFound("Credentials");
}

/** The decrypted credentials of one wallet, or null when the project has none. Cached per isolate. */
export async function loadWalletCredentials<S>(env: CredEnv, projectId: string, wallet: WalletName, now = Date.now()): Promise<LoadedCredentials<S> | null> {
  const loaded = await cache.get(cacheKey(projectId, wallet), now, async () => {
    const row = await findWalletCredentials(getDb(env.DB), projectId, wallet);
    if (!row) return null;
    return { secret: JSON.parse(await decryptSecret(env.MASTER_KEY, row.secretEnc, context(projectId, wallet))), summary: row.summary, version: String(row.version) };
  });
  return loaded as LoadedCredentials<S> | null;
}
