/**
 * @module listener/receive
 * One POST to a listener URL, in order: find the integration by the token's hash (404 for unknown,
 * disabled or rotated URLs, revealing nothing), rate limit, read the raw body once (413), verify the
 * signature over those raw bytes (401, before any parsing), replay a repeated webhook-id /
 * Idempotency-Key, then process. Every request that reached an integration is logged.
 */
import { getDb } from "../db/client";
import { findFirstByIdempotencyKey, findIntegrationByTokenHash } from "../db/queries/integrations";
import type { IntegrationRecord } from "../db/schema";
import { readBody } from "../lib/body";
import { decryptSecret, sha256Hex } from "../lib/crypto";
import { AppError, isAppError } from "../lib/errors";
import { DAY } from "../lib/time";
import { ownedTemplate, type PassScope } from "../passes";
import { secretContext } from "./integrations";
import { outcomeOf, recordEvent, selectHeaders, type EventDraft } from "./event-log";
import { errorOutcome, processPayload, type Outcome } from "./process";
import { verifyListenerSignature } from "./signature";

export type ListenerEnv = PassScope["env"] & Pick<Env, "MASTER_KEY" | "LISTENER_RATE_LIMIT">;

export const IDEMPOTENCY_WINDOW = DAY;
const RATE_PERIOD_SECONDS = 60;

export async function receive(env: ListenerEnv, token: string, req: Request, now = Date.now()): Promise<Outcome> {
  const db = getDb(env.DB);
  // The token is looked up by its SHA-256, never compared as itself: how long the lookup takes depends
  // on the hash, which tells an attacker nothing about a valid token (the timing-safe form of a
  // comparison against many stored tokens).
  const integration = token.length <= 128 ? await findIntegrationByTokenHash(db, await sha256Hex(token)) : null;
  if (!integration || !integration.enabled) return errorOutcome(new AppError("not_found", "No such listener."));

  const draft: EventDraft = {
    integrationId: integration.id,
    receivedAt: now,
    headers: selectHeaders(req.headers),
    contentType: req.headers.get("content-type"),
    body: "",
    bodyTruncated: false,
    idempotencyKey: req.headers.get("webhook-id") ?? req.headers.get("idempotency-key"),
  };
  const outcome = await outcomeOf(() => run(env, integration, req, draft, now), "receive");
  await recordEvent(env, draft, outcome);
  return outcome;
}

async function run(env: ListenerEnv, integration: IntegrationRecord, req: Request, draft: EventDraft, now: number): Promise<Outcome> {
  const { success } = await env.LISTENER_RATE_LIMIT.limit({ key: integration.id });
  if (!success) {
    throw new AppError("rate_limited", "Too many requests to this listener; slow down.", null, { "Retry-After": String(RATE_PERIOD_SECONDS) });
  }

  let raw: Uint8Array;
  try {
    ({ bytes: raw, text: draft.body } = await readBody(req));
  } catch (e) {
    if (isAppError(e) && e.code === "payload_too_large") draft.bodyTruncated = true;
    throw e;
  }

  if (integration.signingSecretEnc) {
    const secret = await decryptSecret(env.MASTER_KEY, integration.signingSecretEnc, secretContext(integration.id));
    const verdict = await verifyListenerSignature(secret, req.headers, raw, Math.floor(now / 1000));
    if (!verdict.ok) {
      console.log(JSON.stringify({ msg: "listener signature rejected", integration: integration.id, reason: verdict.error.reason }));
      throw new AppError("unauthorized", "The request signature is missing or invalid.", null, { "WWW-Authenticate": 'Signature realm="passhook-listener"' });
    }
  }

  if (draft.idempotencyKey) {
    const first = await findFirstByIdempotencyKey(getDb(env.DB), integration.id, draft.idempotencyKey, now - IDEMPOTENCY_WINDOW);
    if (first) {
      if (first.body !== draft.body) {
        throw new AppError("idempotency_conflict", "This webhook-id / Idempotency-Key was already used with a different body.");
      }
      draft.duplicateOf = first.id;
      return {
        status: first.statusCode,
        body: first.response,
        headers: { "Idempotent-Replayed": "true" },
        passId: first.passId ?? undefined,
        passVersion: first.passVersion ?? undefined,
        error: first.errorCode ? { code: first.errorCode, message: first.errorMessage ?? "" } : undefined,
      };
    }
  }

  const template = await ownedTemplate({ env, projectId: integration.projectId }, integration.templateId);
  return processPayload(env, integration, template, draft.body, draft.contentType);
}

