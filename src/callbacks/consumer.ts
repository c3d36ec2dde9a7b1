/**
 * @module callbacks/consumer
 * The callbacks queue consumer. A message is `{deliveryId}` only; the row is the truth. One attempt:
 * reload the delivery and the registration, sign (Standard Webhooks: webhook-id = delivery id, stable
 * across retries), POST with a 15 s timeout and no redirects, record the attempt, then decide:
 * 2xx succeeded · 410 disables the registration · otherwise retry on Svix's schedule with ±20 %
 * jitter (Retry-After honoured on 429/503), and after the last attempt mark it failed and park it in
 * the dead-letter queue. A settled delivery tells its pass's Durable Object, which sends the next
 * one of that pass, so one pass's callbacks arrive in event order.
 *
 * A scheduled retry is a new message with a delay, not `msg.retry()`: the queue's own retry budget
 * (`max_retries`) then only counts our crashes, never the customer's outages. Each message names the
 * attempt it is for, so a duplicate (at-least-once delivery, a sweep re-send) is acked unused.
 */
import { getDb, type Db } from "../db/client";
import { failPendingDelivery, findCallbackSettings, findDeliveryWithPass, markDeadLettered, recordAttempt, type DeliveryWithPass } from "../db/queries/callbacks";
import { readLimited } from "../lib/body";
import { newId } from "../lib/ids";
import { deliverySettled, type DeliveryTask } from "../passes";
import { callbackBody, callbackUrl } from "./payload";
import { nextRetry, parseRetryAfter, parseRetrySchedule } from "./retry";
import { decryptHeaders, disableCallback, signingSecrets } from "./settings";
import { signatureHeader } from "./signing";

export type ConsumerEnv = Pick<
  Env,
  "DB" | "MASTER_KEY" | "PASS_OBJECT" | "CALLBACKS_QUEUE" | "CALLBACKS_DLQ" | "CALLBACK_RETRY_SCHEDULE"
>;

export const ATTEMPT_TIMEOUT_MS = 15_000;
const SNIPPET_BYTES = 1024;

export interface ConsumerDeps {
  random: () => number;
  /** Per-attempt timeout; tests shorten it to exercise the real abort path. */
  timeoutMs?: number;
}

export async function consumeCallbacks(batch: MessageBatch<DeliveryTask>, env: ConsumerEnv, deps: ConsumerDeps = { random: Math.random }) {
  const schedule = parseRetrySchedule(env.CALLBACK_RETRY_SCHEDULE);
  await Promise.all(
    batch.messages.map(async (msg) => {
      try {
        await attempt(msg, env, schedule, deps);
      } catch (e) {
        // Our own failure (D1, DO), not the customer's: let the queue redeliver; the row is unchanged.
        console.error(JSON.stringify({ msg: "callback consumer error", deliveryId: msg.body?.deliveryId, error: e instanceof Error ? e.message : "non-error" }));
        msg.retry();
      }
    }),
  );
}

async function attempt(msg: Message<DeliveryTask>, env: ConsumerEnv, schedule: readonly number[], deps: ConsumerDeps) {
  const db = getDb(env.DB);
  const found = await findDeliveryWithPass(db, msg.body.deliveryId);
  // Gone, settled, or already past this attempt: a stale or duplicate message.
  if (!found || found.delivery.status !== "pending" || msg.body.attempt !== found.delivery.attemptCount + 1) return msg.ack();
  const d = found.delivery;
  const now = Date.now();

  const settings = await findCallbackSettings(db, d.projectId);
  if (!settings || settings.disabledAt) {
    const reason = settings ? `callback registration disabled: ${settings.disabledReason ?? "disabled"}` : "no callback registration";
    if (await failPendingDelivery(db, d.id, reason, now)) {
      await park(env, found, d.attemptCount);
      await settle(env, found);
    }
    return msg.ack();
  }

  const body = JSON.stringify(callbackBody(d.event, d.payload));
  const ts = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    ...(await decryptHeaders(env, settings)),
    "content-type": "application/json",
    "webhook-id": d.id,
    "webhook-timestamp": String(ts),
    "webhook-signature": await signatureHeader(await signingSecrets(env, settings, now), d.id, ts, body),
  };

  const timeoutMs = deps.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const started = Date.now();
  let statusCode: number | null = null;
  let snippet: string | null = null;
  let error: string | null = null;
  let retryAfter: number | null = null;
  try {
    const res = await fetch(callbackUrl(settings.baseUrl, d.event, d.passId), {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    statusCode = res.status;
    retryAfter = parseRetryAfter(res.headers.get("retry-after"), now);
    snippet = (await readLimited(res.body, SNIPPET_BYTES)).text;
    if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
  } catch (e) {
    error = e instanceof Error && e.name === "TimeoutError" ? `timed out after ${timeoutMs / 1000} s` : `network error: ${e instanceof Error ? e.message : "unknown"}`;
  }
  const record = {
    id: newId("attempt"),
    attempt: d.attemptCount + 1,
    at: now,
    statusCode,
    durationMs: Date.now() - started,
    responseSnippet: snippet,
    error,
  };
  const tries = d.tries + 1;

  const finished = { nextAttemptAt: null, completedAt: Date.now() };
  if (error === null) {
    if (await recordAttempt(db, d.id, record, { status: "succeeded", tries, ...finished })) await settle(env, found);
    return msg.ack();
  }
  if (statusCode === 410) {
    // Standard Webhooks: 410 Gone means "stop sending"; the registration is disabled until re-registered.
    if (await recordAttempt(db, d.id, record, { status: "failed", tries, ...finished })) {
      await disableCallback(env, d.projectId, "the callback server answered 410 Gone");
      await park(env, found, record.attempt);
      await settle(env, found);
    }
    return msg.ack();
  }
  const decision = nextRetry({ schedule, tries, statusCode, retryAfterSeconds: retryAfter, random: deps.random() });
  if (decision.retry) {
    const next = { status: "pending" as const, tries, nextAttemptAt: now + decision.delaySeconds * 1000, completedAt: null };
    if (await recordAttempt(db, d.id, record, next)) {
      const task: DeliveryTask = { deliveryId: d.id, attempt: record.attempt + 1 };
      await env.CALLBACKS_QUEUE.send(task, { delaySeconds: decision.delaySeconds });
    }
    return msg.ack();
  }
  if (await recordAttempt(db, d.id, record, { status: "failed", tries, ...finished })) {
    await park(env, found, record.attempt);
    await settle(env, found);
  }
  return msg.ack();
}

/** The dead-letter queue keeps the failed task; the row keeps the record and the attempts. */
async function park(env: ConsumerEnv, found: DeliveryWithPass, attempt: number) {
  await env.CALLBACKS_DLQ.send({ deliveryId: found.delivery.id, attempt, parked: true } satisfies DeliveryTask);
}

async function settle(env: ConsumerEnv, found: DeliveryWithPass) {
  await deliverySettled(env, { templateId: found.templateId, externalId: found.externalId }, found.delivery.passId);
}

/**
 * The dead-letter queue's consumer. Tasks we parked are already failed rows: they get their
 * `dead_lettered_at` stamp and nothing else (the row may have been resent since). A task the queue
 * dead-lettered itself, because our consumer kept crashing on it, is failed here if the row is still
 * waiting for that very attempt, keeping its record and letting the pass's next delivery go.
 */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryTask>, env: ConsumerEnv) {
  const db: Db = getDb(env.DB);
  for (const msg of batch.messages) {
    const found = await findDeliveryWithPass(db, msg.body.deliveryId);
    if (found) {
      const now = Date.now();
      const d = found.delivery;
      const crashed = !msg.body.parked && d.status === "pending" && msg.body.attempt === d.attemptCount + 1;
      if (crashed && (await failPendingDelivery(db, d.id, "dead-lettered after repeated consumer errors", now))) {
        await markDeadLettered(db, d.id, now);
        await settle(env, found);
      } else if (msg.body.parked && d.status === "failed") {
        await markDeadLettered(db, d.id, now);
      }
    }
    msg.ack();
  }
}
