/**
 * @module projects/idempotency
 * The one idempotency helper, for admin writes (`Idempotency-Key`) and listener requests (`webhook-id`,
 * `Idempotency-Key`, or the signature of an `X-Passhook-Signature` request). The key is *claimed* before
 * any work runs (an insert that only one caller can win), so concurrent repeats run once: the winner
 * proceeds, a repeat that arrives while it runs is told so (409), and a repeat after it finished gets the
 * first response back (any status below 500) for 24 hours. A key reused with a different request is a
 * 409. A 5xx releases the key so the client can retry; a claim left `processing` by a request that died
 * is reclaimed after a minute.
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
import { AppError } from "../lib/errors";
import { DAY, MINUTE } from "../lib/time";

export const IDEMPOTENCY_TTL = DAY;
export const ABANDONED_AFTER = MINUTE;

type IdemEnv = Pick<Env, "DB" | "MASTER_KEY">;
const context = (scope: string, key: string) => `idempotency:${scope}:${key}`;

export type IdempotencyStart =
  | { kind: "proceed" }
  /** `ref` is what the first request recorded beside its response (the listener: its event id). */
  | { kind: "replay"; status: number; body: string; ref: string | null }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

/** Claims `key` in `scope` for a request with this `fingerprint`, or says why it must not run. */
export async function beginIdempotent(env: IdemEnv, scope: string, key: string, fingerprint: string, now = Date.now()): Promise<IdempotencyStart> {
  const db = getDb(env.DB);
  if (await claimIdempotencyKey(db, { scope, key, fingerprint, now, expiredBefore: now - IDEMPOTENCY_TTL, abandonedBefore: now - ABANDONED_AFTER })) {
    return { kind: "proceed" };
  }
  const row = await findIdempotencyKey(db, scope, key);
  if (!row) return { kind: "in_progress" }; // released between our claim and our read: the client retries
  if (row.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (row.state !== "done" || row.responseStatus == null) return { kind: "in_progress" };
  // Listener answers are stored in the clear by the pass's object (they hold no secret); admin ones sealed.
  const body = !row.responseBody ? "" : row.sealed ? await decryptSecret(env.MASTER_KEY, row.responseBody, context(scope, key)) : row.responseBody;
  return { kind: "replay", status: row.responseStatus, body, ref: row.ref };
}

/** Records the response of a claimed key (or releases the claim after a 5xx). */
export async function finishIdempotent(env: IdemEnv, scope: string, key: string, status: number, body: string, ref: string | null = null): Promise<void> {
  const db = getDb(env.DB);
  if (status >= 500) await releaseIdempotencyKey(db, scope, key);
  else await completeIdempotencyKey(db, scope, key, status, body ? await encryptSecret(env.MASTER_KEY, body, context(scope, key)) : "", ref);
}

export async function purgeExpiredIdempotencyKeys(env: Pick<Env, "DB">, now = Date.now()) {
  return purgeIdempotencyKeys(getDb(env.DB), now - IDEMPOTENCY_TTL);
}

/**
 * The refusals both callers answer with: a key reused with a different request, and a repeat that
 * arrives while the first still runs (409 with Retry-After, so a webhook sender's retry gets the replay).
 */
export function refuseIdempotent(start: IdempotencyStart, keyName: string): void {
  if (start.kind === "mismatch") {
    throw new AppError("idempotency_conflict", `This ${keyName} was already used with a different request.`);
  }
  if (start.kind === "in_progress") {
    throw new AppError("idempotency_conflict", `A request with this ${keyName} is still being processed; retry shortly.`, null, { "Retry-After": "1" });
  }
}
