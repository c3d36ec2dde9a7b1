/**
 * @module projects/idempotency
 * `Idempotency-Key` on admin writes: the first response (any status below 500) is stored and replayed
 * for 24 hours. A key reused with a different request is a 409, as is a repeat that arrives while the
 * first is still running. A 5xx releases the key so the client can retry.
 */
import { getDb } from "../db/client";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  findIdempotencyKey,
  purgeIdempotencyKeys,
  releaseIdempotencyKey,
} from "../db/queries/projects";
import { DAY } from "../lib/time";

export const IDEMPOTENCY_TTL = DAY;

export type IdempotencyStart =
  | { kind: "proceed" }
  | { kind: "replay"; status: number; body: string }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

export async function beginIdempotent(env: Pick<Env, "DB">, scope: string, key: string, fingerprint: string, now = Date.now()): Promise<IdempotencyStart> {
  const db = getDb(env.DB);
  await purgeIdempotencyKeys(db, now - IDEMPOTENCY_TTL, { scope, key });
  if (await claimIdempotencyKey(db, scope, key, fingerprint, now)) return { kind: "proceed" };
  const row = await findIdempotencyKey(db, scope, key);
  if (!row) return { kind: "in_progress" };
  if (row.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (row.state !== "done" || row.responseStatus == null) return { kind: "in_progress" };
  return { kind: "replay", status: row.responseStatus, body: row.responseBody ?? "" };
}

export async function finishIdempotent(env: Pick<Env, "DB">, scope: string, key: string, status: number, body: string): Promise<void> {
  const db = getDb(env.DB);
  if (status >= 500) await releaseIdempotencyKey(db, scope, key);
  else await completeIdempotencyKey(db, scope, key, status, body);
}

export async function purgeExpiredIdempotencyKeys(env: Pick<Env, "DB">, now = Date.now()): Promise<void> {
  await purgeIdempotencyKeys(getDb(env.DB), now - IDEMPOTENCY_TTL);
}
