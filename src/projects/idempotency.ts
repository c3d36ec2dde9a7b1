/**
 * @module projects/idempotency
 * `Idempotency-Key` on admin writes: the first response (any status below 500) is stored and replayed
 * for 24 hours. A key reused with a different request is a 409, as is a repeat that arrives while the
 * first is still running. A 5xx releases the key so the client can retry; a record left `processing`
 * by a request that died is reclaimed after a minute.
 *
 * Stored bodies are encrypted under MASTER_KEY: a first response can carry a secret shown once (an API
 * secret, a listener URL, a whsec_ signing secret), and at rest it must be as protected as the rest.
 */
import { getDb } from "../db/client";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  purgeIdempotencyKeys,
  releaseIdempotencyKey,
} from "../db/queries/projects";
import { decryptSecret, encryptSecret } from "../lib/crypto";
import { DAY, MINUTE } from "../lib/time";

export const IDEMPOTENCY_TTL = DAY;
export const ABANDONED_AFTER = MINUTE;

type IdemEnv = Pick<Env, "DB" | "MASTER_KEY">;
const context = (scope: string, key: string) => `idempotency:${scope}:${key}`;

export type IdempotencyStart =
  | { kind: "proceed" }
  | { kind: "replay"; status: number; body: string }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

export async function beginIdempotent(env: IdemEnv, scope: string, key: string, fingerprint: string, now = Date.now()): Promise<IdempotencyStart> {
  const db = getDb(env.DB);
  await purgeIdempotencyKeys(db, now - IDEMPOTENCY_TTL, { scope, key, abandonedBefore: now - ABANDONED_AFTER });
  if (await claimIdempotencyKey(db, scope, key, fingerprint, now)) return { kind: "proceed" };
  const row = await findIdempotencyKey(db, scope, key);
  if (!row) return { kind: "in_progress" };
  if (row.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (row.state !== "done" || row.responseStatus == null) return { kind: "in_progress" };
  const body = row.responseBody ? await decryptSecret(env.MASTER_KEY, row.responseBody, context(scope, key)) : "";
  return { kind: "replay", status: row.responseStatus, body };
}

export async function finishIdempotent(env: IdemEnv, scope: string, key: string, status: number, body: string): Promise<void> {
  const db = getDb(env.DB);
  if (status >= 500) await releaseIdempotencyKey(db, scope, key);
  else await completeIdempotencyKey(db, scope, key, status, body ? await encryptSecret(env.MASTER_KEY, body, context(scope, key)) : "");
}

export async function purgeExpiredIdempotencyKeys(env: Pick<Env, "DB">, now = Date.now()): Promise<void> {
  await purgeIdempotencyKeys(getDb(env.DB), now - IDEMPOTENCY_TTL);
}
