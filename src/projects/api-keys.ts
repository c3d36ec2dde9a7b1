/**
 * @module projects/api-keys
 * Project API keys, Airship style: HTTP Basic `key:secret`. The secret is 256 random bits, so a plain
 * SHA-256 is a sound stored form (no slow hash needed); comparison is constant-time.
 */
import { getDb } from "../db/client";
import { directoryDb } from "../db/shards";
import { deleteApiKeyUnlessLast, findApiKeyWithShard, insertApiKey } from "../db/queries/projects";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import { newId, newToken } from "../lib/ids";
import { err, ok, type Result } from "../lib/result";

export async function mintApiKey() {
  const key = newId("apiKey");
  const secret = `sk_${newToken(32)}`;
  return { key, secret, secretHash: await sha256Hex(secret) };
}

export async function createApiKey(env: Pick<Env, "DB">, projectId: string, now = Date.now()) {
  const k = await mintApiKey();
  await insertApiKey(getDb(directoryDb(env)), projectId, k.key, k.secretHash, now);
  return { key: k.key, secret: k.secret };
}

export async function deleteApiKey(env: Pick<Env, "DB">, projectId: string, key: string): Promise<void> {
  const r = await deleteApiKeyUnlessLast(getDb(directoryDb(env)), projectId, key);
  if (r === "missing") throw notFound("API key");
  if (r === "last") throw new AppError("conflict", "This is the project's last API key; create another before deleting it.");
}

export type BasicAuthFailure = { reason: "missing" | "malformed" | "unknown_key" | "wrong_secret" };

/** Checks an `Authorization: Basic ...` header. The reason is for logs; the wire only sees 401. */
export async function verifyBasicAuth(env: Pick<Env, "DB">, header: string | undefined): Promise<Result<KeyOwner, BasicAuthFailure>> {
  if (!header) return err({ reason: "missing" });
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return err({ reason: "malformed" });
  let decoded: string;
  try {
    decoded = atob(m[1]);
  } catch {
    return err({ reason: "malformed" });
  }
  const colon = decoded.indexOf(":");
  if (colon < 1) return err({ reason: "malformed" });
  return verifyKeySecret(env, decoded.slice(0, colon), decoded.slice(colon + 1));
}

/** Who a key belongs to: the project, and the D1 shard its data is in (db/shards.ts). */
export interface KeyOwner {
  projectId: string;
  key: string;
  shard: number;
}

/** Checks an API key and its secret (Basic auth, and the dashboard's sign-in form), in the directory. */
export async function verifyKeySecret(env: Pick<Env, "DB">, key: string, secret: string): Promise<Result<KeyOwner, BasicAuthFailure>> {
  if (!key || key.length > 200 || secret.length > 500) return err({ reason: "malformed" });
  const row = await findApiKeyWithShard(getDb(directoryDb(env)), key);
  // Hash even when the key is unknown, so both paths cost the same.
  const presented = await sha256Hex(secret);
  if (!row) {
    await constantTimeEqual(presented, presented);
    return err({ reason: "unknown_key" });
  }
  if (!(await constantTimeEqual(presented, row.secretHash))) return err({ reason: "wrong_secret" });
  return ok({ projectId: row.projectId, key, shard: row.shard });
}

/** Checks the operator's `Authorization: Bearer <ADMIN_TOKEN>`. */
export async function verifyOperator(env: Pick<Env, "ADMIN_TOKEN">, header: string | undefined): Promise<boolean> {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!m || !env.ADMIN_TOKEN) return false;
  return constantTimeEqual(m[1], env.ADMIN_TOKEN);
}

/**
 * The project's shard while `key` is still one of its API keys, else null (a dashboard session ends
 * with its key).
 */
export async function liveKeyShard(env: Pick<Env, "DB">, projectId: string, key: string): Promise<number | null> {
  const row = await findApiKeyWithShard(getDb(directoryDb(env)), key);
  return row?.projectId === projectId ? row.shard : null;
}
