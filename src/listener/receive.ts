/**
 * @module listener/receive
 * One POST to a listener URL. The order of checks decides what a stranger who only knows the URL can
 * cost us, so it is:
 * 1. find the integration by the token's hash (404 for unknown, disabled or rotated URLs, revealing
 *    nothing and logging nothing);
 * 2. unsigned integration: the integration's rate limit (429) before the body is read;
 * 3. read the raw body once (413 over 256 KiB);
 * 4. signed integration: verify the signature over those raw bytes (401);
 * 5. claim the idempotency key, which must be covered by the signature when there is one: the signed
 *    `webhook-id` for Standard Webhooks, the signature itself for `X-Passhook-Signature` (a body-only
 *    HMAC: unsigned headers are ignored, or a replay could dodge its key by adding one), otherwise
 *    `webhook-id` or `Idempotency-Key`. A repeat gets the first answer without spending the rate
 *    limit and is logged without its body; a concurrent repeat gets a 409;
 * 6. signed integration: the rate limit, so neither forged nor replayed requests spend the genuine
 *    sender's budget (a limited request releases its key);
 * 7. process: the pass's Durable Object writes the change and the request's receipt (its event row
 *    and the answer under its key) in one D1 batch.
 * Requests refused before processing (401, 413, 429) and replays are logged with the body's size and
 * digest only, and only within their own per-integration budget (`LISTENER_REJECT_LIMIT`), so a flood
 * of forged or captured requests neither fills the log nor starves the sender it impersonates.
 *
 * A warm update costs one D1 round trip (the object's batch): the integration and its template come
 * from short per-isolate caches (lookup.ts, passes' cachedTemplate), and the pass from its object's memory.
 */
import { splitShard, withShard } from "../db/shards";
import { readBody } from "../lib/body";
import { decryptSecret, sha256Hex, toHex } from "../lib/crypto";
import { AppError, isAppError } from "../lib/errors";
import { logError } from "../lib/log";
import { cachedTemplate, type PassScope } from "../passes";
import { beginIdempotent, refuseIdempotent } from "../projects";
import type { IntegrationRecord } from "../db/schema";
import { secretContext } from "./integrations";
import { newDraft, type EventDraft } from "./draft";
import { logEvent, outcomeOf, selectHeaders, settleUnloggedKey, storeDetails } from "./event-log";
import { findListenerIntegration } from "./lookup";
import { errorOutcome, processPayload, type Outcome } from "./process";
import { verifyListenerSignature } from "./signature";

export type ListenerEnv = PassScope["env"] & Pick<Env, "MASTER_KEY" | "LISTENER_RATE_LIMIT" | "LISTENER_REJECT_LIMIT" | "EVENT_LOG">;

const RATE_PERIOD_SECONDS = 60;
const MAX_KEY_LENGTH = 255;

export const idempotencyScope = (integrationId: string) => `listener:${integrationId}`;

export async function receive(root: ListenerEnv, token: string, req: Request, opts: { now?: number; defer?: Defer } = {}): Promise<Outcome> {
  const now = opts.now ?? Date.now();
  // A listener of a project outside D1 shard 0 has `<shard>.` in front of its token (db/shards.ts).
  const at = token.length <= 128 ? splitShard(root, ".", token) : null;
  if (!at) return errorOutcome(new AppError("not_found", "No such listener."));
  const env = withShard(root, at.shard);
  const pending: Promise<unknown>[] = [];
  const defer = opts.defer ?? ((work: Promise<unknown>) => void pending.push(work));
  // The token is looked up by its SHA-256, never compared as itself: how long the lookup takes depends
  // on the hash, which tells an attacker nothing about a valid token (the timing-safe form of a
  // comparison against many stored tokens).
  const integration = await findListenerIntegration(env, await sha256Hex(token), now);
  if (!integration || !integration.enabled) return errorOutcome(new AppError("not_found", "No such listener."));

  const draft = newDraft(integration.id, now, { headers: selectHeaders(req.headers), contentType: req.headers.get("content-type")?.slice(0, 512) ?? null });
  const outcome = await outcomeOf(() => run(env, integration, req, draft, now), "receive");
  await settle(env, integration, draft, outcome, defer);
  await Promise.all(pending);
  return outcome;
}

/**
 * Logs the request unless its pass's object already did, then hands its details to R2 (after the
 * answer, through `defer`). A failure to log never turns a landed write into an error.
 */
async function settle(env: ListenerEnv, integration: IntegrationRecord, draft: EventDraft, outcome: Outcome, defer: Defer): Promise<void> {
  try {
    if (!draft.logged) {
      if (draft.rejected && !(await env.LISTENER_REJECT_LIMIT.limit({ key: integration.id })).success) {
        await settleUnloggedKey(env, draft, outcome);
        return;
      }
      await logEvent(env, draft, outcome);
      if (draft.rejected) {
        console.log(JSON.stringify({ msg: "listener request refused", integration: integration.id, status: outcome.status, reason: draft.refusal ?? outcome.error?.code }));
      }
    }
  } catch (e) {
    logError("listener event log write failed; the response stands", e, { integration: integration.id, status: outcome.status });
    await settleUnloggedKey(env, draft, outcome).catch((e2) => logError("listener idempotency key not settled; it is reclaimed after a minute", e2, { integration: integration.id }));
    return;
  }
  defer(storeDetails(env, draft, outcome).catch((e) => logError("listener event details not kept", e, { integration: integration.id })));
}

/** Runs work after the answer (the route passes the execution context's waitUntil); by default, awaits it. */
export type Defer = (work: Promise<unknown>) => void;

async function run(env: ListenerEnv, integration: IntegrationRecord, req: Request, draft: EventDraft, now: number): Promise<Outcome> {
  const signed = integration.signingSecretEnc != null;
  if (!signed) await spendRateLimit(env, integration, draft);

  let raw: Uint8Array;
  try {
    ({ bytes: raw, text: draft.body } = await readBody(req));
  } catch (e) {
    if (isAppError(e) && e.code === "payload_too_large") {
      // The size the sender declared stays in the logged content-length header; nothing was measured.
      draft.bodyTruncated = true;
      draft.rejected = true;
    }
    throw e;
  }
  draft.bodyBytes = raw.byteLength;
  draft.bodySha256 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)));

  let key = req.headers.get("webhook-id") ?? req.headers.get("idempotency-key");
  let keyName = "webhook-id / Idempotency-Key";
  if (signed) {
    const secret = await decryptSecret(env.MASTER_KEY, integration.signingSecretEnc!, secretContext(integration.id));
    const verdict = await verifyListenerSignature(secret, req.headers, raw, Math.floor(now / 1000));
    if (!verdict.ok) {
      draft.rejected = true;
      draft.refusal = verdict.error.reason;
      throw new AppError("unauthorized", "The request signature is missing or invalid.", null, { "WWW-Authenticate": 'Signature realm="passhook-listener"' });
    }
    // A body-only HMAC has no timestamp and covers no header: the signature itself is the key, so a
    // captured request replays the first answer instead of running again, whatever headers it adds.
    // (Standard Webhooks' webhook-id is signed, and its timestamp expires a capture after 5 minutes.)
    if (verdict.value.scheme === "hmac") {
      key = `hmac:${verdict.value.signature}`;
      keyName = "X-Passhook-Signature";
    }
  }

  if (key) {
    draft.idempotencyKey = key;
    const claimed = key.length > MAX_KEY_LENGTH ? `sha256:${await sha256Hex(key)}` : key;
    const scope = idempotencyScope(integration.id);
    const start = await beginIdempotent(env, scope, claimed, draft.bodySha256, now);
    refuseIdempotent(start, keyName);
    if (start.kind === "replay") {
      // The first request's row keeps the body; this one is counted like a refusal.
      draft.duplicateOf = start.ref === null ? null : Number(start.ref);
      draft.rejected = true;
      return replayed(start.status, start.body);
    }
    draft.claimed = { scope, key: claimed };
  }
  if (signed) await spendRateLimit(env, integration, draft);

  const template = await cachedTemplate({ env, projectId: integration.projectId }, integration.templateId, now);
  return processPayload(env, integration, template, draft);
}

async function spendRateLimit(env: ListenerEnv, integration: IntegrationRecord, draft: EventDraft): Promise<void> {
  const { success } = await env.LISTENER_RATE_LIMIT.limit({ key: integration.id });
  if (!success) {
    draft.rejected = true;
    throw new AppError("rate_limited", "Too many requests to this listener; slow down.", null, { "Retry-After": String(RATE_PERIOD_SECONDS) });
  }
}

function replayed(status: number, body: string): Outcome {
  const parsed: unknown = body ? JSON.parse(body) : null;
  const error = status >= 400 && parsed && typeof parsed === "object" ? (parsed as { error?: { code: string; message: string } }).error : undefined;
  const ok = status < 400 ? (parsed as { passId?: number; version?: number }) : null;
  return {
    status,
    body: parsed,
    headers: { "Idempotent-Replayed": "true" },
    error,
    passId: ok?.passId,
    passVersion: ok?.version,
  };
}
