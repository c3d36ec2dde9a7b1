/**
 * @module apple/credentials
 * A project's Apple credentials in the shared credential store (projects/credentials.ts): validated at
 * upload by certificates.ts (a 400 that names the failing check and input), stored encrypted, shown
 * only as a summary. The pass type cannot change under devices that hold the project's passes (a 409):
 * every pass carries it, and the web service answers 404 to any other. Loading returns the secret with a cache key per project and credential version,
 * so signers (pkpass.ts) and APNs tokens (apns-token.ts) are parsed once per isolate per version.
 */
import { getDb } from "../db/client";
import { addPassTypeShard, passTypeShards, projectHasRegistrations } from "../db/queries/apple-registrations";
import { directoryDb, isShard, shardCount, shardOf } from "../db/shards";
import { LookupCache } from "../lib/ttl-cache";
import { AppError } from "../lib/errors";
import { loadWalletCredentials, saveWalletCredentials, walletCredentialSummaries } from "../projects";
import { allowCustomApnsHost } from "./config";
import { failureIssues, validateAppleCredentials, type AppleCredentialsBody, type ValidatedAppleCredentials } from "./certificates";
import type { ApnsTokenKey } from "./apns-token";
import type { SignerMaterial } from "./pkpass";
import { nameAttribute, readCertificatePem } from "./pki";

/** What the store keeps encrypted for Apple. */
export type AppleSecret = ValidatedAppleCredentials["secret"] & {
  passTypeIdentifier: string;
  teamIdentifier: string;
  organizationName: string;
};

export interface AppleCredentials {
  secret: AppleSecret;
  /** `<projectId>:<version>`: unique across projects, new with every save. */
  cacheKey: string;
}

type CredEnv = Pick<Env, "DB" | "MASTER_KEY" | "ALLOW_CUSTOM_APNS_HOST">;

/** Validates and stores a project's Apple credentials; returns the summary (never key material). */
export async function saveAppleCredentials(env: CredEnv, projectId: string, body: AppleCredentialsBody, now = Date.now()) {
  const checked = await validateAppleCredentials(body, { now, allowCustomApnsHost: allowCustomApnsHost(env) });
  if (!checked.ok) {
    const f = checked.error;
    throw new AppError("validation_failed", f.message, { reason: f.reason, issues: failureIssues(f) });
  }
  const { secret, summary } = checked.value;
  await refusePassTypeChange(env, projectId, summary.passTypeIdentifier);
  // The certificate's O is the team's name: pass.json's organizationName unless the design names one.
  const organizationName = nameAttribute(readCertificatePem(secret.certificatePem).subject, "2.5.4.10") ?? summary.teamIdentifier;
  const stored: AppleSecret = { ...secret, passTypeIdentifier: summary.passTypeIdentifier, teamIdentifier: summary.teamIdentifier, organizationName };
  // Apple's "serials changed since" names a pass type, not a pass: the directory says which shards to
  // ask. Written first: if the save then fails, an extra row costs one empty query; the other way
  // round, live credentials would have devices endpoint 3 never asks about.
  await addPassTypeShard(getDb(directoryDb(env)), summary.passTypeIdentifier, shardOf(env), now);
  shardsByPassType.delete(summary.passTypeIdentifier);
  return saveWalletCredentials(env, projectId, "apple", { secret: stored, summary: { ...summary, organizationName } }, now);
}

// Pass types the directory does not know are cached apart (LookupCache): endpoint 3 needs no
// credential, so made-up pass types must not push real ones out of the cache.
const shardsByPassType = new LookupCache<string, number[]>(60_000);

/**
 * The D1 shards that can hold a pass type's registrations (db/shards.ts): those recorded when
 * projects saved credentials for it (migration 0011 recorded those saved before, all in shard 0), else
 * shard 0. Cached per isolate for a minute; a save forgets its entry in its own isolate.
 */
export async function shardsOfPassType(env: Pick<Env, "DB">, passTypeId: string, now = Date.now()): Promise<number[]> {
  if (shardCount(env) === 1) return [0];
  const found = await shardsByPassType.get(passTypeId, now, async () => {
    const shards = (await passTypeShards(getDb(directoryDb(env)), passTypeId)).filter((k) => isShard(env, k));
    return shards.length ? shards : null;
  });
  return found ?? [0];
}

/**
 * Every issued pass carries the pass type id in its pass.json, and its device calls the web service
 * with it (apple-wallet.md §1.1); after a change they would all be 404s. So a change is a 409 while
 * devices are registered for the current type; deleting the credentials first switches anyway.
 */
async function refusePassTypeChange(env: Pick<Env, "DB">, projectId: string, next: string): Promise<void> {
  const current = (await walletCredentialSummaries(env, projectId)).apple as { passTypeIdentifier?: unknown } | null;
  const before = typeof current?.passTypeIdentifier === "string" ? current.passTypeIdentifier : null;
  if (!before || before === next || !(await projectHasRegistrations(getDb(env.DB), projectId, before))) return;
  throw new AppError(
    "conflict",
    `Devices hold this project's passes of type ${before}; with ${next} every one of them would stop updating (the web service answers only the stored pass type). Upload credentials for ${before}, or DELETE /v1/project/${projectId}/credentials/apple first to switch anyway.`,
    { passTypeIdentifier: before },
  );
}

/** The project's Apple credentials, or null when it has none (cached per isolate for a minute). */
export async function loadAppleCredentials(env: Pick<Env, "DB" | "MASTER_KEY">, projectId: string): Promise<AppleCredentials | null> {
  const loaded = await loadWalletCredentials<AppleSecret>(env, projectId, "apple");
  return loaded ? { secret: loaded.secret, cacheKey: `${projectId}:${loaded.version}` } : null;
}

export function signerMaterial(c: AppleCredentials): SignerMaterial {
  return { version: c.cacheKey, certificatePem: c.secret.certificatePem, wwdrCertificatePem: c.secret.wwdrCertificatePem, privateKeyPem: c.secret.privateKeyPem };
}

/** The APNs token key, or null when the project gave none (its passes are then never pushed). */
export function apnsKey(c: AppleCredentials): (ApnsTokenKey & { host: string }) | null {
  const a = c.secret.apns;
  return a ? { teamId: a.teamId, keyId: a.keyId, privateKeyPem: a.privateKeyPem, keyVersion: c.cacheKey, host: a.host } : null;
}
