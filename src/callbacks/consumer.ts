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
 *
 * Our own failures (D1, a Durable Object, a queue send) retry the message with a growing delay
 * (lib/backoff: 30 s doubling to 2 h, about two days in all), so an outage of ours delays deliveries and
 * never fails them. A batch runs at most 6 POSTs at once (an invocation's simultaneous connections), and
 * each attempt's 15 s timeout starts when its POST starts, so one slow receiver cannot time out other
 * tenants' deliveries queued behind it.
 */
import { shardField } from "../db/shards";
import { getDb, type Db } from "../db/client";
import {
  failPendingDelivery,
  findCallbackSettings,
  findDeliveriesWithPass,
  findDeliveryWithPass,
  markDeadLettered,
  notePendingDelivery,
  recordAttempt,
  type DeliveryWithPass,
} from "../db/queries/callbacks";
import type { CallbackSettingsRecord } from "../db/schema";
import { crashRetryDelay } from "../lib/backoff";
import { readLimited } from "../lib/body";
import { newId } from "../lib/ids";
import { createLimiter, OUTBOUND_CONNECTIONS, type Limiter } from "../lib/limit";
import { logError } from "../lib/log";
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
  const egress = createLimiter(OUTBOUND_CONNECTIONS);
  const crashed = (msg: Message<DeliveryTask>, e: unknown) => {
    // Our own failure (D1, DO, queue), not the customer's: redeliver later; the row is unchanged.
    const delaySeconds = crashRetryDelay(msg.attempts, deps.random());
    logError("callback consumer error; retrying", e, { deliveryId: msg.body?.deliveryId, attempts: msg.attempts, delaySeconds });
    msg.retry({ delaySeconds });
  };
  const db = getDb(env.DB);
  // One read for the whole batch's deliveries, and one per project for its registration (decrypted once).
  let found: Map<string, DeliveryWithPass>;
  try {
    found = await findDeliveriesWithPass(db, batch.messages.map((m) => m.body.deliveryId));
  } catch (e) {
    for (const msg of batch.messages) crashed(msg, e);
    return;
  }
  const registrations = new Map<string, Promise<Registration | null>>();
  const registrationOf = (projectId: string, now: number) => {
    let r = registrations.get(projectId);
    if (!r) {
      r = loadRegistration(env, projectId, now);
      registrations.set(projectId, r);
      r.catch(() => registrations.delete(projectId));
    }
    return r;
  };
  await Promise.all(
    batch.messages.map(async (msg) => {
      try {
        await attempt(msg, found.get(msg.body.deliveryId), env, schedule, deps, egress, registrationOf);
      } catch (e) {
        crashed(msg, e);
      }
    }),
  );
}

/** A project's callback server, ready to sign with: decrypted headers and the secrets that sign now. */
interface Registration {
  row: CallbackSettingsRecord;
  headers: Record<string, string>;
  secrets: string[];
}

async function loadRegistration(env: ConsumerEnv, projectId: string, now: number): Promise<Registration | null> {
  const row = await findCallbackSettings(getDb(env.DB), projectId);
  if (!row) return null;
  if (row.disabledAt) return { row, headers: {}, secrets: [] };
  return { row, headers: await decryptHeaders(env, row), secrets: await signingSecrets(env, row, now) };
}

async function attempt(
  msg: Message<DeliveryTask>,
  found: DeliveryWithPass | undefined,
  env: ConsumerEnv,
  schedule: readonly number[],
  deps: ConsumerDeps,
  egress: Limiter,
  registrationOf: (projectId: string, now: number) => Promise<Registration | null>,
) {
  // Gone, settled, or already past this attempt: a stale or duplicate message.
  if (!found || found.delivery.status !== "pending" || msg.body.attempt !== found.delivery.attemptCount + 1) return msg.ack();
  const db = getDb(env.DB);
  const d = found.delivery;
  const now = Date.now();

  const registration = await registrationOf(d.projectId, now);
  if (!registration || registration.row.disabledAt) {
    const settings = registration?.row;
    const reason = settings ? `callback registration disabled: ${settings.disabledReason ?? "disabled"}` : "no callback registration";
    const r = await failPendingDelivery(db, d.id, reason, now);
    if (r.failed) {
      await park(env, found, d.attemptCount);
      if (r.waiting) await settle(env, found);
    }
    return msg.ack();
  }

  const body = JSON.stringify(callbackBody(d.event, d.payload));
  const ts = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    ...registration.headers,
    "content-type": "application/json",
    "webhook-id": d.id,
    "webhook-timestamp": String(ts),
    "webhook-signature": await signatureHeader(registration.secrets, d.id, ts, body),
  };

  const timeoutMs = deps.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const sent = await egress(() => post(callbackUrl(registration.row.baseUrl, d.event, d.passId), headers, body, timeoutMs, now));
  const { statusCode, error, retryAfter } = sent;
  const record = {
    id: newId("attempt"),
    attempt: d.attemptCount + 1,
    at: now,
    statusCode,
    durationMs: sent.durationMs,
    responseSnippet: sent.snippet,
    error,
  };
  const tries = d.tries + 1;

  const finished = { nextAttemptAt: null, completedAt: Date.now() };
  if (error === null) {
    const r = await recordAttempt(db, d.id, record, { status: "succeeded", tries, ...finished });
    if (r.recorded && r.waiting) await settle(env, found);
    return msg.ack();
  }
  if (statusCode === 410) {
    // Standard Webhooks: 410 Gone means "stop sending"; the registration is disabled until re-registered.
    const r = await recordAttempt(db, d.id, record, { status: "failed", tries, ...finished });
    if (r.recorded) {
      await disableCallback(env, d.projectId, "the callback server answered 410 Gone");
      await park(env, found, record.attempt);
      if (r.waiting) await settle(env, found);
    }
    return msg.ack();
  }
  const decision = nextRetry({ schedule, tries, statusCode, retryAfterSeconds: retryAfter, random: deps.random() });
  if (decision.retry) {
    const next = { status: "pending" as const, tries, nextAttemptAt: now + decision.delaySeconds * 1000, completedAt: null };
    if ((await recordAttempt(db, d.id, record, next)).recorded) {
      const task: DeliveryTask = { deliveryId: d.id, attempt: record.attempt + 1, ...shardField(env) };
      await env.CALLBACKS_QUEUE.send(task, { delaySeconds: decision.delaySeconds });
    }
    return msg.ack();
  }
  const r = await recordAttempt(db, d.id, record, { status: "failed", tries, ...finished });
  if (r.recorded) {
    await park(env, found, record.attempt);
    if (r.waiting) await settle(env, found);
  }
  return msg.ack();
}

interface Sent {
  statusCode: number | null;
  snippet: string | null;
  error: string | null;
  retryAfter: number | null;
  durationMs: number;
}

/**
 * One POST. Redirects are never followed (`redirect: "manual"`): a 3xx is a failed attempt, so a
 * receiver cannot bounce us to an address the URL policy refused. The timeout starts here, when the
 * request does, and covers reading the first KiB of the response.
 */
async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, now: number): Promise<Sent> {
  const started = Date.now();
  const out: Sent = { statusCode: null, snippet: null, error: null, retryAfter: null, durationMs: 0 };
  try {
    const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    out.statusCode = res.status;
    out.retryAfter = parseRetryAfter(res.headers.get("retry-after"), now);
    out.snippet = (await readLimited(res.body, SNIPPET_BYTES)).text;
    if (res.status < 200 || res.status >= 300) out.error = `HTTP ${res.status}`;
  } catch (e) {
    out.error = e instanceof Error && e.name === "TimeoutError" ? `timed out after ${timeoutMs / 1000} s` : `network error: ${e instanceof Error ? e.message : "unknown"}`;
  }
  out.durationMs = Date.now() - started;
  return out;
}

/** The dead-letter queue keeps the failed task; the row keeps the record and the attempts. */
async function park(env: ConsumerEnv, found: DeliveryWithPass, attempt: number) {
  await env.CALLBACKS_DLQ.send({ deliveryId: found.delivery.id, attempt, parked: true, ...shardField(env) } satisfies DeliveryTask);
}

async function settle(env: ConsumerEnv, found: DeliveryWithPass) {
  await deliverySettled(env, { templateId: found.templateId, externalId: found.externalId }, found.delivery.passId);
}

/**
 * The dead-letter queue's consumer. Tasks we parked are already failed rows: they get their
 * `dead_lettered_at` stamp and nothing else (the row may have been resent since). A task the queue
 * dead-lettered itself, because our consumer kept failing on it for about two days, is NOT failed:
 * only attempts against the receiver decide that. The row stays pending with a note, and the cron
 * sweep sends it again (it is overdue), so nothing accepted is lost while our fault lasts.
 */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryTask>, env: ConsumerEnv) {
  const db: Db = getDb(env.DB);
  for (const msg of batch.messages) {
    try {
      const found = await findDeliveryWithPass(db, msg.body.deliveryId);
      if (found) {
        const now = Date.now();
        const d = found.delivery;
        const crashed = !msg.body.parked && d.status === "pending" && msg.body.attempt === d.attemptCount + 1;
        if (crashed) {
          await notePendingDelivery(db, d.id, "our consumer kept failing on this delivery; the sweep sends it again", now);
          console.error(JSON.stringify({ msg: "callback task dead-lettered after repeated consumer errors; left pending for the sweep", deliveryId: d.id }));
        } else if (msg.body.parked && d.status === "failed") {
          await markDeadLettered(db, d.id, now);
        }
      }
      msg.ack();
    } catch (e) {
      const delaySeconds = crashRetryDelay(msg.attempts, Math.random());
      logError("dead-letter consumer error; retrying", e, { deliveryId: msg.body?.deliveryId, delaySeconds });
      msg.retry({ delaySeconds });
    }
  }
}
